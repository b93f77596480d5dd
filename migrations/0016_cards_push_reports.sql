-- Link preview cards, Web Push subscriptions and reports (Mastodon's PreviewCard, Web::PushSubscription and
-- Report). Conventions as elsewhere: ids from woolly_id(); rows naming an account cascade with it.

-- One card per normalised URL, shared by every post that links it: fetched once, reused until expires_at
-- (the origin's Cache-Control max-age, bounded). The image is a remote reference only (lazy remote media).
CREATE TABLE preview_cards (
  id                bigint PRIMARY KEY DEFAULT woolly_id(),
  url               text NOT NULL UNIQUE,
  title             text NOT NULL DEFAULT '',
  description       text NOT NULL DEFAULT '',
  type              text NOT NULL DEFAULT 'link' CHECK (type IN ('link', 'photo', 'video', 'rich')),
  author_name       text NOT NULL DEFAULT '',
  author_url        text NOT NULL DEFAULT '',
  provider_name     text NOT NULL DEFAULT '',
  provider_url      text NOT NULL DEFAULT '',
  html              text NOT NULL DEFAULT '',
  width             integer NOT NULL DEFAULT 0,
  height            integer NOT NULL DEFAULT 0,
  image_url         text,
  image_description text NOT NULL DEFAULT '',
  embed_url         text NOT NULL DEFAULT '',
  language          text,
  published_at      timestamptz,
  -- 'fetched' (from the page itself) or 'federated' (from the origin server's copy in the post).
  source            text NOT NULL DEFAULT 'fetched' CHECK (source IN ('fetched', 'federated')),
  expires_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- The card a post shows (Mastodon shows one: the first eligible link's).
CREATE TABLE preview_cards_statuses (
  status_id       bigint PRIMARY KEY REFERENCES statuses (id) ON DELETE CASCADE,
  preview_card_id bigint NOT NULL REFERENCES preview_cards (id) ON DELETE CASCADE,
  url             text NOT NULL,    -- the link as it appeared in the post
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX preview_cards_statuses_card ON preview_cards_statuses (preview_card_id);

-- One Web Push subscription per access token; revoking or deleting the token ends it.
CREATE TABLE web_push_subscriptions (
  id              bigint PRIMARY KEY DEFAULT woolly_id(),
  access_token_id bigint NOT NULL UNIQUE REFERENCES oauth_access_tokens (id) ON DELETE CASCADE,
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- The token itself goes in every payload (Mastodon's access_token, for the client's service worker); only
  -- its hash is in oauth_access_tokens, so a copy sealed with SECRET_KEY_BASE is kept here.
  access_token_sealed text NOT NULL,
  endpoint        text NOT NULL,
  key_p256dh      text NOT NULL,
  key_auth        text NOT NULL,
  standard        boolean NOT NULL DEFAULT false,
  alerts          jsonb NOT NULL DEFAULT '{}',
  policy          text NOT NULL DEFAULT 'all' CHECK (policy IN ('all', 'followed', 'follower', 'none')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_push_subscriptions_account ON web_push_subscriptions (account_id);

-- Reports, from local users (the API) or from other servers (Flag). The moderation columns are for the
-- admin work that will act on them.
CREATE TABLE reports (
  id                         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id                 bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,  -- who reported
  target_account_id          bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_ids                 bigint[] NOT NULL DEFAULT '{}',
  rule_ids                   integer[] NOT NULL DEFAULT '{}',
  comment                    text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 5000),
  category                   text NOT NULL DEFAULT 'other' CHECK (category IN ('spam', 'legal', 'violation', 'other')),
  forwarded                  boolean NOT NULL DEFAULT false,
  uri                        text UNIQUE,    -- the Flag's id, for reports that came from another server
  assigned_account_id        bigint REFERENCES accounts (id) ON DELETE SET NULL,
  action_taken_at            timestamptz,
  action_taken_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_target ON reports (target_account_id);
CREATE INDEX reports_unresolved ON reports (id DESC) WHERE action_taken_at IS NULL;
