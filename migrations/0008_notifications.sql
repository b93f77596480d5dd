-- Notification requests: a user who accepts a request lets that sender's notifications through from then on
-- (Mastodon's NotificationPermission), whatever the notification policy says.
CREATE TABLE notification_permissions (
  id              bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, from_account_id)
);

-- The requests list walks a user's filtered notifications by sender.
CREATE INDEX notifications_filtered ON notifications (account_id, from_account_id, id DESC) WHERE filtered;
