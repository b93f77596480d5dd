-- The rest of Mastodon's moderation tools: canonical e-mail blocks (sign-ups refused by the hash of the
-- normalised address), review of trending tags / posts / links / publishers, moderation notes on accounts
-- and reports, warning presets, and strikes that name the posts they were about.

-- Mastodon's CanonicalEmailBlock: sha256 hex of the canonical address (lower-cased, dots and +tag removed
-- from the local part). Only the hash is kept, so a block does not store the address itself.
CREATE TABLE canonical_email_blocks (
  id                   bigint PRIMARY KEY DEFAULT woolly_id(),
  canonical_email_hash text NOT NULL UNIQUE CHECK (canonical_email_hash ~ '^[0-9a-f]{64}$'),
  reference_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- A moderator's decision on a trending tag, post or link (trending_* tables are rewritten every refresh,
-- so the decision lives apart from them). No row: not reviewed. Targets are not foreign keys because one
-- table covers three kinds; a row whose target is gone is never joined again.
CREATE TABLE trend_reviews (
  kind                   text NOT NULL CHECK (kind IN ('tag', 'status', 'link')),
  target_id              bigint NOT NULL,
  trendable              boolean NOT NULL,
  reviewed_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  reviewed_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, target_id)
);

-- Mastodon's PreviewCardProvider: the sites trending links come from; a rejected publisher's links do not
-- trend unless a link is approved on its own. trendable null: not reviewed yet.
CREATE TABLE trend_publishers (
  id                  bigint PRIMARY KEY DEFAULT woolly_id(),
  domain              text NOT NULL UNIQUE CHECK (domain = lower(domain)),
  trendable           boolean,
  reviewed_at         timestamptz,
  requested_review_at timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now()
);

-- Mastodon's AccountModerationNote and ReportNote: staff-only remarks, shown with their author and time.
CREATE TABLE account_moderation_notes (
  id                bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id        bigint REFERENCES accounts (id) ON DELETE SET NULL,            -- the author
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  content           text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 2000),
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_moderation_notes_target ON account_moderation_notes (target_account_id, id);

CREATE TABLE report_notes (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  report_id  bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,                    -- the author
  content    text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 500),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_notes_report ON report_notes (report_id, id);

-- Mastodon's AccountWarningPreset: canned warning text a moderator picks with warning_preset_id.
CREATE TABLE account_warning_presets (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  title      text NOT NULL DEFAULT '' CHECK (char_length(title) <= 200),
  text       text NOT NULL CHECK (char_length(text) <= 5000),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Strikes for removing or marking a report's posts (Mastodon's delete_statuses / mark_statuses_as_sensitive),
-- with the posts they were about.
ALTER TABLE account_warnings DROP CONSTRAINT IF EXISTS account_warnings_action_check;
ALTER TABLE account_warnings ADD CONSTRAINT account_warnings_action_check
  CHECK (action IN ('none', 'disable', 'sensitive', 'silence', 'suspend', 'delete_statuses', 'mark_statuses_as_sensitive'));
ALTER TABLE account_warnings ADD COLUMN status_ids bigint[] NOT NULL DEFAULT '{}';
