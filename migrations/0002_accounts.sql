-- Accounts and the door: accounts (local and remote in one table, `domain` null for local, as Mastodon),
-- users (the sign-in side of a local account), OAuth applications, grants and tokens, web sessions.

CREATE TABLE accounts (
  id               bigint PRIMARY KEY DEFAULT woolly_id(),
  username         text NOT NULL,
  domain           text,
  display_name     text NOT NULL DEFAULT '',
  note             text NOT NULL DEFAULT '',
  fields           jsonb NOT NULL DEFAULT '[]',
  locked           boolean NOT NULL DEFAULT false,
  bot              boolean NOT NULL DEFAULT false,
  discoverable     boolean,
  indexable        boolean NOT NULL DEFAULT false,
  hide_collections boolean NOT NULL DEFAULT false,
  avatar_key       text,
  header_key       text,
  uri              text NOT NULL DEFAULT '',
  url              text,
  inbox_url        text,
  shared_inbox_url text,
  public_key       text NOT NULL DEFAULT '',
  private_key      text,
  followers_count  integer NOT NULL DEFAULT 0,
  following_count  integer NOT NULL DEFAULT 0,
  statuses_count   integer NOT NULL DEFAULT 0,
  last_status_at   timestamptz,
  suspended_at     timestamptz,
  silenced_at      timestamptz,
  memorial         boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- One alice per domain, case-insensitively; local accounts share the empty domain.
CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), lower(coalesce(domain, '')));
CREATE INDEX accounts_uri ON accounts (uri) WHERE uri <> '';

CREATE TABLE users (
  id                     bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id             bigint NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
  email                  text NOT NULL,
  password_hash          text NOT NULL,
  role                   text NOT NULL DEFAULT 'User' CHECK (role IN ('User', 'Moderator', 'Admin', 'Owner')),
  locale                 text NOT NULL DEFAULT 'en',
  confirmed_at           timestamptz,
  confirmation_token     text UNIQUE,            -- sha256 of the token mailed to the person
  confirmation_sent_at   timestamptz,
  reset_password_token   text UNIQUE,            -- sha256, as above
  reset_password_sent_at timestamptz,
  approved               boolean NOT NULL DEFAULT true,
  sign_up_reason         text,
  sign_up_ip             inet,
  disabled               boolean NOT NULL DEFAULT false,
  -- source[privacy], source[sensitive], source[language] and other per-user preferences
  settings               jsonb NOT NULL DEFAULT '{}',
  last_sign_in_at        timestamptz,
  last_sign_in_ip        inet,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE oauth_applications (
  id               bigint PRIMARY KEY DEFAULT woolly_id(),
  name             text NOT NULL,
  client_id        text NOT NULL UNIQUE,
  client_secret    text NOT NULL,  -- returned to the client at registration, kept to check /oauth/token
  redirect_uris    text[] NOT NULL,
  scopes           text NOT NULL,
  website          text,
  owner_account_id bigint REFERENCES accounts (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Authorization codes: short-lived, single use, bound to a redirect_uri and an optional PKCE challenge.
CREATE TABLE oauth_access_grants (
  id                    bigint PRIMARY KEY DEFAULT woolly_id(),
  application_id        bigint NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
  user_id               bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash             text NOT NULL UNIQUE,
  redirect_uri          text NOT NULL,
  scopes                text NOT NULL,
  code_challenge        text,
  code_challenge_method text,
  expires_at            timestamptz NOT NULL,
  used_at               timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now()
);

-- Access tokens never expire until revoked, as in Mastodon. user_id is null for client_credentials tokens.
CREATE TABLE oauth_access_tokens (
  id             bigint PRIMARY KEY DEFAULT woolly_id(),
  application_id bigint REFERENCES oauth_applications (id) ON DELETE CASCADE,
  user_id        bigint REFERENCES users (id) ON DELETE CASCADE,
  token_hash     text NOT NULL UNIQUE,
  scopes         text NOT NULL,
  description    text,           -- for tokens made with `woolly admin tokens create`
  last_used_at   timestamptz,
  last_used_ip   inet,
  revoked_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_access_tokens_user ON oauth_access_tokens (user_id) WHERE revoked_at IS NULL;

-- Signed-in browser sessions for the HTML pages (sign in, authorize).
CREATE TABLE web_sessions (
  id           bigint PRIMARY KEY DEFAULT woolly_id(),
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash   text NOT NULL UNIQUE,
  ip           inet,
  user_agent   text,
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
