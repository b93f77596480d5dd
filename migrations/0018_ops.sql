-- Running an instance: the rest of Mastodon's DomainBlock (obfuscate), domain allows for limited
-- federation mode, e-mail domain blocks and IP blocks checked at sign-up, and the account moderation
-- state the admin API acts on (sensitized_at: media of this account are always marked sensitive).

ALTER TABLE domain_blocks ADD COLUMN obfuscate boolean NOT NULL DEFAULT false;

-- Mastodon's DomainAllow: with limited federation mode on, only these domains federate.
CREATE TABLE domain_allows (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  domain     text NOT NULL UNIQUE CHECK (domain = lower(domain)),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Mastodon's EmailDomainBlock: sign-ups with an address at this domain (or a subdomain) are refused.
CREATE TABLE email_domain_blocks (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  domain     text NOT NULL UNIQUE CHECK (domain = lower(domain)),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Mastodon's IpBlock: severity sign_up_requires_approval | sign_up_block | no_access, optional expiry.
CREATE TABLE ip_blocks (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  ip         cidr NOT NULL UNIQUE,
  severity   text NOT NULL CHECK (severity IN ('sign_up_requires_approval', 'sign_up_block', 'no_access')),
  comment    text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 1000),
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ip_blocks_ip ON ip_blocks USING gist (ip inet_ops);

ALTER TABLE accounts ADD COLUMN sensitized_at timestamptz;

-- The admin account list filters by domain and sorts by id; remote accounts of a suspended domain are
-- purged by domain in batches.
CREATE INDEX accounts_domain_id ON accounts (lower(domain), id) WHERE domain IS NOT NULL;

-- Mastodon's AccountWarning (a "strike"): every moderation action taken on an account, with its text.
CREATE TABLE account_warnings (
  id                    bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id            bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,   -- the target
  created_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  action                text NOT NULL CHECK (action IN ('none', 'disable', 'sensitive', 'silence', 'suspend')),
  text                  text NOT NULL DEFAULT '' CHECK (char_length(text) <= 5000),
  report_id             bigint REFERENCES reports (id) ON DELETE SET NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_warnings_account ON account_warnings (account_id, id DESC);

-- Restoring a pg_dump (docs/backup.md) runs with an empty search_path: a function used by an index that
-- calls another of our functions unqualified then fails to build the index. Pin the search path of the
-- search functions (0015) so a backup restores; guarded in case they are renamed.
DO $$
BEGIN
  IF to_regprocedure('woolly_status_tsv(text, text, text)') IS NOT NULL THEN
    ALTER FUNCTION woolly_status_tsv(text, text, text) SET search_path = public, pg_catalog;
  END IF;
  IF to_regprocedure('woolly_search_config(text)') IS NOT NULL THEN
    ALTER FUNCTION woolly_search_config(text) SET search_path = public, pg_catalog;
  END IF;
END
$$;
