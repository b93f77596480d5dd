-- Foundation: id generation, instance settings, queue probes.

-- Time-sortable 64-bit ids, like Mastodon's snowflakes: milliseconds since the epoch in the high bits,
-- 16 bits of a per-database sequence below. Sent to clients as strings.
CREATE SEQUENCE woolly_id_seq AS bigint MINVALUE 0 MAXVALUE 65535 CYCLE;

CREATE FUNCTION woolly_id(at timestamptz DEFAULT clock_timestamp()) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT ((floor(extract(epoch FROM at) * 1000)::bigint) << 16) | nextval('woolly_id_seq');
$$;

-- Instance settings changed at run time (admin UI, `woolly admin settings set`); the environment holds
-- what is fixed at deploy time. Values are JSON so each key keeps its type.
CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Round-trip probes through a queue (`woolly admin queues probe`): the worker records when it ran a probe.
-- The primary key makes a probe that runs twice record once.
CREATE TABLE queue_probes (
  marker      text PRIMARY KEY,
  queue       text NOT NULL,
  enqueued_at timestamptz NOT NULL,
  ran_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
