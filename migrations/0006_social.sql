-- The social core: statuses (posts and boosts), their edits, mentions and tags; polls; the graph (follows,
-- follow requests, blocks, mutes, domain blocks, endorsements, notes); interactions (favourites, bookmarks,
-- pins, conversation mutes); notifications, markers and scheduled statuses.
-- Conventions: ids from woolly_id(); every row that names an account cascades when the account goes.

CREATE TABLE conversations (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  uri        text UNIQUE,                      -- for remote threads (ostatus:conversation / context)
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE statuses (
  id                     bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id             bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  uri                    text NOT NULL DEFAULT '',
  url                    text,
  text                   text NOT NULL DEFAULT '',   -- the source as written (local posts), for edit and redraft
  content                text NOT NULL DEFAULT '',   -- rendered, sanitised HTML
  spoiler_text           text NOT NULL DEFAULT '',
  sensitive              boolean NOT NULL DEFAULT false,
  visibility             text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
  language               text,
  in_reply_to_id         bigint REFERENCES statuses (id) ON DELETE SET NULL,
  in_reply_to_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  reblog_of_id           bigint REFERENCES statuses (id) ON DELETE CASCADE,
  conversation_id        bigint REFERENCES conversations (id) ON DELETE SET NULL,
  application_id         bigint REFERENCES oauth_applications (id) ON DELETE SET NULL,
  poll_id                bigint,
  local                  boolean NOT NULL DEFAULT true,
  replies_count          integer NOT NULL DEFAULT 0,
  reblogs_count          integer NOT NULL DEFAULT 0,
  favourites_count       integer NOT NULL DEFAULT 0,
  edited_at              timestamptz,
  deleted_at             timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX statuses_account ON statuses (account_id, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX statuses_in_reply_to ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id) WHERE reblog_of_id IS NOT NULL;
CREATE INDEX statuses_conversation ON statuses (conversation_id);
CREATE INDEX statuses_uri ON statuses (uri) WHERE uri <> '';
-- One boost per account per post.
CREATE UNIQUE INDEX statuses_one_reblog ON statuses (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL;
-- Public timelines walk this: public, not boosts, not deleted, newest first.
CREATE INDEX statuses_public ON statuses (id DESC) WHERE visibility = 'public' AND reblog_of_id IS NULL AND deleted_at IS NULL;

ALTER TABLE media_attachments
  ADD CONSTRAINT media_attachments_status_fk FOREIGN KEY (status_id) REFERENCES statuses (id) ON DELETE SET NULL;

-- Every earlier version of an edited status (the current one lives in statuses).
CREATE TABLE status_edits (
  id                   bigint PRIMARY KEY DEFAULT woolly_id(),
  status_id            bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  account_id           bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  text                 text NOT NULL DEFAULT '',
  content              text NOT NULL DEFAULT '',
  spoiler_text         text NOT NULL DEFAULT '',
  sensitive            boolean NOT NULL DEFAULT false,
  media_attachment_ids bigint[] NOT NULL DEFAULT '{}',
  poll_options         text[],
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_edits_status ON status_edits (status_id, id);

CREATE TABLE mentions (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  silent     boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, status_id DESC);

CREATE TABLE tags (
  id             bigint PRIMARY KEY DEFAULT woolly_id(),
  name           text NOT NULL,            -- lower-cased, normalised
  display_name   text NOT NULL,            -- as first written
  usable         boolean NOT NULL DEFAULT true,
  last_status_at timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name ON tags (name);

CREATE TABLE statuses_tags (
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  tag_id    bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (tag_id, status_id)
);
CREATE INDEX statuses_tags_status ON statuses_tags (status_id);

CREATE TABLE polls (
  id             bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id      bigint REFERENCES statuses (id) ON DELETE CASCADE,
  options        text[] NOT NULL,
  cached_tallies integer[] NOT NULL,
  multiple       boolean NOT NULL DEFAULT false,
  hide_totals    boolean NOT NULL DEFAULT false,
  votes_count    integer NOT NULL DEFAULT 0,
  voters_count   integer NOT NULL DEFAULT 0,
  expires_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE statuses ADD CONSTRAINT statuses_poll_fk FOREIGN KEY (poll_id) REFERENCES polls (id) ON DELETE SET NULL;

CREATE TABLE poll_votes (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  poll_id    bigint NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  choice     integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (poll_id, account_id, choice)
);

-- ---- the graph ----

CREATE TABLE follows (
  id                bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  show_reblogs      boolean NOT NULL DEFAULT true,
  notify            boolean NOT NULL DEFAULT false,
  languages         text[],
  uri               text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, target_account_id),
  CHECK (account_id <> target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, id DESC);

CREATE TABLE follow_requests (
  id                bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  show_reblogs      boolean NOT NULL DEFAULT true,
  notify            boolean NOT NULL DEFAULT false,
  languages         text[],
  uri               text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, target_account_id),
  CHECK (account_id <> target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id DESC);

CREATE TABLE blocks (
  id                bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  uri               text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id);

CREATE TABLE mutes (
  id                 bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id         bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  hide_notifications boolean NOT NULL DEFAULT true,
  expires_at         timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, target_account_id)
);

CREATE TABLE account_domain_blocks (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  domain     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, domain)
);

-- Endorsements ("featured profiles", POST /accounts/:id/pin).
CREATE TABLE account_pins (
  id                bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, target_account_id)
);

-- Private notes on other accounts (POST /accounts/:id/note).
CREATE TABLE account_notes (
  account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  comment           text NOT NULL CHECK (char_length(comment) <= 2000),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, target_account_id)
);

CREATE TABLE tag_follows (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  tag_id     bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, tag_id)
);

-- ---- interactions ----

CREATE TABLE favourites (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id, id DESC);

CREATE TABLE bookmarks (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, status_id)
);

CREATE TABLE status_pins (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, status_id)
);

CREATE TABLE conversation_mutes (
  id              bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  UNIQUE (account_id, conversation_id)
);

-- ---- notifications, markers, scheduled statuses ----

CREATE TABLE notifications (
  id              bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,   -- who is notified
  from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,   -- who caused it
  type            text NOT NULL CHECK (type IN ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite',
                                                'poll', 'update', 'admin.sign_up', 'admin.report')),
  status_id       bigint REFERENCES statuses (id) ON DELETE CASCADE,
  report_id       bigint,
  group_key       text NOT NULL,       -- grouped notifications (v2): same key, same group
  filtered        boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC);
CREATE INDEX notifications_group ON notifications (account_id, group_key, id DESC);
-- One notification per cause: a favourite or follow repeated does not notify twice.
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, from_account_id, type, coalesce(status_id, 0));

CREATE TABLE markers (
  account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  timeline     text NOT NULL CHECK (timeline IN ('home', 'notifications')),
  last_read_id bigint NOT NULL,
  lock_version integer NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, timeline)
);

CREATE TABLE scheduled_statuses (
  id           bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  scheduled_at timestamptz NOT NULL,
  params       jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id DESC);
