/**
 * SQL for user archives: the account_archives rows (this feature's table) and the read-only selections an
 * archive is built from. Like features/admin/backup.ts, the media keys are read straight from media_attachments
 * and accounts: nothing is written to those tables here.
 */
import type { Db } from "../../infra/db";

export interface ArchiveRow {
  id: string;
  account_id: string | null;
  state: "pending" | "done" | "failed";
  storage_key: string | null;
  size_bytes: string | null;
  error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

export async function insertPending(db: Db, accountId: string): Promise<ArchiveRow> {
  const [row] = await db<ArchiveRow[]>`insert into account_archives (account_id) values (${accountId}) returning *`;
  return row!;
}

export async function find(db: Db, id: string): Promise<ArchiveRow | undefined> {
  const [row] = await db<ArchiveRow[]>`select * from account_archives where id = ${id}`;
  return row;
}

export async function latestFor(db: Db, accountId: string): Promise<ArchiveRow | undefined> {
  const [row] = await db<ArchiveRow[]>`select * from account_archives where account_id = ${accountId} order by id desc limit 1`;
  return row;
}

export async function markDone(db: Db, id: string, key: string, size: number): Promise<boolean> {
  const rows = await db`
    update account_archives set state = 'done', storage_key = ${key}, size_bytes = ${size}, error = null, finished_at = now()
    where id = ${id} and state = 'pending'`;
  return rows.count === 1;
}

export async function markFailed(db: Db, id: string, error: string): Promise<void> {
  await db`update account_archives set state = 'failed', error = ${error.slice(0, 1000)}, finished_at = now() where id = ${id} and state = 'pending'`;
}

/** Archives past retention (or whose account is gone), oldest first, after `afterId`. */
export async function expired(db: Db, cutoff: Date | null, afterId: string, limit: number): Promise<ArchiveRow[]> {
  return db<ArchiveRow[]>`
    select * from account_archives
    where id > ${afterId}::bigint and (account_id is null or (${cutoff}::timestamptz is not null and created_at < ${cutoff}::timestamptz))
    order by id limit ${limit}`;
}

export async function deleteRows(db: Db, ids: string[]): Promise<void> {
  if (ids.length > 0) await db`delete from account_archives where id = any(${ids}::bigint[])`;
}

/** Every status of the account (all visibilities, as Mastodon's archive), newest first, one page at a time. */
export async function statusIdsPage(db: Db, accountId: string, beforeId: string | null, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select id::text from statuses
    where account_id = ${accountId} and deleted_at is null and (${beforeId}::bigint is null or id < ${beforeId}::bigint)
    order by id desc limit ${limit}`;
  return rows.map((r) => r.id);
}

/** URIs of what the account favourited or bookmarked, newest first. */
export async function interactedUris(db: Db, table: "favourites" | "bookmarks", accountId: string): Promise<string[]> {
  const rows = await db<{ uri: string }[]>`
    select s.uri from ${db(table)} x join statuses s on s.id = x.status_id
    where x.account_id = ${accountId} and s.deleted_at is null order by x.id desc`;
  return rows.map((r) => r.uri);
}

/** Storage keys of the account's own media (attachments of its statuses, avatar, header). */
export async function mediaKeys(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ key: string }[]>`
    select m.file_key as key from media_attachments m join statuses s on s.id = m.status_id
    where s.account_id = ${accountId} and s.deleted_at is null and m.file_key is not null
    union select avatar_key from accounts where id = ${accountId} and avatar_key is not null
    union select header_key from accounts where id = ${accountId} and header_key is not null`;
  return rows.map((r) => r.key).sort();
}
