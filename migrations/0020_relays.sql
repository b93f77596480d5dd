-- Relays (issue 9): one row per subscribed relay inbox. The Follow we sent is named by follow_activity_id,
-- which is how the relay's Accept / Reject finds its row; actor_uri is the relay actor that answered, the
-- one whose Announces and forwards are then taken as relay traffic.
create table relays (
  id bigserial primary key,
  inbox_url text not null unique check (length(inbox_url) <= 2048),
  state text not null default 'pending' check (state in ('pending', 'accepted', 'rejected')),
  follow_activity_id text not null unique,
  actor_uri text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index relays_actor_uri_idx on relays (actor_uri) where state = 'accepted';
