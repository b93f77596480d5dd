-- Federation: the instance actor's key pair (it signs fetches made on behalf of the server, as Mastodon's
-- /actor does), and instance-level domain blocks (moderation at the door: inbox, fetch, delivery).

-- One row, made on first use (see features/federation/instance-actor.ts): the CHECK keeps it single.
CREATE TABLE instance_keys (
  id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  public_key  text NOT NULL,
  private_key text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Mastodon's DomainBlock: severity silence|suspend|noop, plus the reject_media / reject_reports flags.
-- Domains are stored lower-case; a block also covers the domain's subdomains.
CREATE TABLE domain_blocks (
  id              bigint PRIMARY KEY DEFAULT woolly_id(),
  domain          text NOT NULL UNIQUE CHECK (domain = lower(domain)),
  severity        text NOT NULL DEFAULT 'silence' CHECK (severity IN ('noop', 'silence', 'suspend')),
  reject_media    boolean NOT NULL DEFAULT false,
  reject_reports  boolean NOT NULL DEFAULT false,
  private_comment text,
  public_comment  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Remote accounts are found by actor URI on every signed request: make that lookup exact and unique.
CREATE UNIQUE INDEX accounts_remote_uri ON accounts (uri) WHERE domain IS NOT NULL;
