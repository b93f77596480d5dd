-- Client features: filters (v2, with v1 answered from them), poll expiry bookkeeping, direct-message
-- conversations per participant, featured tags and announcements.

-- ---- filters ----

CREATE TABLE filters (
  id            bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  title         text NOT NULL,
  context       text[] NOT NULL,
  filter_action text NOT NULL DEFAULT 'warn' CHECK (filter_action IN ('warn', 'hide', 'blur')),
  expires_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filters_account ON filters (account_id, id);

CREATE TABLE filter_keywords (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  filter_id  bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
  keyword    text NOT NULL,
  whole_word boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id, id);

CREATE TABLE filter_statuses (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  filter_id  bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
  status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (filter_id, status_id)
);

-- ---- polls: expiry is processed once (notifications sent) ----

ALTER TABLE polls ADD COLUMN expiry_processed_at timestamptz;
CREATE INDEX polls_expiring ON polls (expires_at) WHERE expiry_processed_at IS NULL AND expires_at IS NOT NULL;

-- ---- conversations (direct messages), one row per participant ----

CREATE TABLE account_conversations (
  id                      bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id              bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  conversation_id         bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  participant_account_ids bigint[] NOT NULL DEFAULT '{}',
  last_status_id          bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  unread                  boolean NOT NULL DEFAULT false,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, conversation_id)
);
CREATE INDEX account_conversations_page ON account_conversations (account_id, last_status_id DESC);

-- ---- featured tags ----

CREATE TABLE featured_tags (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  tag_id     bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, tag_id)
);

-- ---- announcements (operator-created) ----

CREATE TABLE announcements (
  id           bigint PRIMARY KEY DEFAULT woolly_id(),
  text         text NOT NULL,
  content      text NOT NULL,
  starts_at    timestamptz,
  ends_at      timestamptz,
  all_day      boolean NOT NULL DEFAULT false,
  published_at timestamptz NOT NULL DEFAULT now(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE announcement_dismissals (
  announcement_id bigint NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  PRIMARY KEY (announcement_id, account_id)
);

CREATE TABLE announcement_reactions (
  announcement_id bigint NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (announcement_id, account_id, name)
);
