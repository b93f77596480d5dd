-- Lists (Mastodon's List and ListAccount): a user's named groups of accounts they follow, each with its own
-- timeline. A member row hangs off the follow that admits it, so unfollowing (or a block, which ends the
-- follow) takes the account off every list of the follower, as Mastodon.

CREATE TABLE lists (
  id             bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  title          text NOT NULL CHECK (btrim(title) <> '' AND char_length(title) <= 256),
  replies_policy text NOT NULL DEFAULT 'list' CHECK (replies_policy IN ('followed', 'list', 'none')),
  exclusive      boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lists_account ON lists (account_id, id);

CREATE TABLE list_accounts (
  id         bigint PRIMARY KEY DEFAULT woolly_id(),
  list_id    bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  follow_id  bigint NOT NULL REFERENCES follows (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);
CREATE INDEX list_accounts_follow ON list_accounts (follow_id);
