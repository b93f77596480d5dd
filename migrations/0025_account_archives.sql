-- User archives (Mastodon's Settings → Export → "Request your archive", its `backups` table): a job builds a
-- .tar.gz of the account's outbox, actor, likes, bookmarks and media into storage under archives/ (a private
-- prefix). account_id is set null, not cascaded, when the account goes, so the retention job still finds the
-- row and deletes the file; rows are the only index of what is in archives/ (storage cannot be listed).
create table account_archives (
  id bigint primary key default woolly_id(),
  account_id bigint references accounts (id) on delete set null,
  state text not null default 'pending' check (state in ('pending', 'done', 'failed')),
  storage_key text check (storage_key is null or (storage_key like 'archives/%' and length(storage_key) <= 512)),
  size_bytes bigint check (size_bytes is null or size_bytes >= 0),
  error text check (error is null or length(error) <= 1000),
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index account_archives_account on account_archives (account_id, id desc);
create index account_archives_created on account_archives (created_at);

-- Purging soft-deleted statuses (statuses.purge_deleted) hard-deletes rows. Walk only the deleted ones, and
-- give every table whose foreign key cascades from statuses an index on that column: without one, each
-- deleted status costs a sequential scan of notifications, bookmarks, pins… (found by listing FKs to
-- statuses with no index leading on their column).
create index statuses_deleted on statuses (id) where deleted_at is not null;
create index notifications_status on notifications (status_id) where status_id is not null;
create index bookmarks_status on bookmarks (status_id);
create index status_pins_status on status_pins (status_id);
create index polls_status on polls (status_id) where status_id is not null;
create index filter_statuses_status on filter_statuses (status_id);
create index account_conversations_last_status on account_conversations (last_status_id);
