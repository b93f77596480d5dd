/**
 * SQL the inbound handlers need that no other feature's store has: finding accounts and statuses by their
 * ActivityPub ids, and the media rows of remote attachments (references only: nothing is downloaded here;
 * media/remote.ts fetches lazily on first view).
 */
import type { Db } from "../../../infra/db";
import type { Visibility } from "../../statuses/visibility";

export interface AccountRef {
  id: string;
  uri: string;
  domain: string | null;
  username: string;
  locked: boolean;
  suspended_at: Date | null;
}

/** Accounts (local or remote) by actor URI. */
export async function accountsByUris(db: Db, uris: string[]): Promise<AccountRef[]> {
  if (uris.length === 0) return [];
  return db<AccountRef[]>`
    select id, uri, domain, username, locked, suspended_at from accounts where uri = any(${uris}::text[])`;
}

export interface StatusRef {
  id: string;
  account_id: string;
  uri: string;
  local: boolean;
  visibility: Visibility;
  reblog_of_id: string | null;
  conversation_id: string | null;
  in_reply_to_id: string | null;
  poll_id: string | null;
  deleted_at: Date | null;
}

/** A status by its ActivityPub id, deleted or not (a tombstone says "deleted before it arrived"). */
export async function statusByUri(db: Db, uri: string): Promise<StatusRef | undefined> {
  const [row] = await db<StatusRef[]>`
    select id, account_id, uri, local, visibility, reblog_of_id, conversation_id, in_reply_to_id, poll_id, deleted_at
    from statuses where uri = ${uri} order by local limit 1`;
  return row;
}

export interface RemoteMediaInput {
  type: "image" | "video" | "audio" | "unknown" | "gifv";
  remoteUrl: string;
  description: string | null;
  blurhash: string | null;
  focus: { x: number; y: number } | null;
  meta: Record<string, unknown>;
}

export async function insertRemoteMedia(db: Db, accountId: string, statusId: string, media: RemoteMediaInput[]): Promise<string[]> {
  const ids: string[] = [];
  for (const m of media) {
    const [row] = await db<{ id: string }[]>`
      insert into media_attachments (account_id, status_id, type, file_key, meta, description, blurhash, focus, processing, remote_url)
      values (${accountId}, ${statusId}, ${m.type}, null, ${db.json(m.meta as never)}, ${m.description}, ${m.blurhash},
              ${m.focus ? db.json(m.focus as never) : null}, 'done', ${m.remoteUrl})
      returning id`;
    ids.push(row!.id);
  }
  return ids;
}

/** The remote attachments of a status, to compare with an Update's. */
export async function remoteMediaOf(db: Db, statusId: string): Promise<{ id: string; remote_url: string | null }[]> {
  return db`select id, remote_url from media_attachments where status_id = ${statusId} order by id`;
}

export async function detachMedia(db: Db, statusId: string, keepIds: string[]): Promise<void> {
  await db`update media_attachments set status_id = null where status_id = ${statusId} and not (id = any(${keepIds}::bigint[]))`;
}

export async function updateMediaDescription(db: Db, id: string, description: string | null): Promise<void> {
  await db`update media_attachments set description = ${description}, updated_at = now() where id = ${id}`;
}

/** A silenced domain's accounts are silenced as they arrive (Mastodon's DomainBlock applies to new accounts). */
export async function silenceIfUnsilenced(db: Db, accountId: string): Promise<void> {
  await db`update accounts set silenced_at = now() where id = ${accountId} and silenced_at is null`;
}

/** Local statuses by id, live: Like / Announce targets. */
export async function liveStatusById(db: Db, id: string): Promise<StatusRef | undefined> {
  const [row] = await db<StatusRef[]>`
    select id, account_id, uri, local, visibility, reblog_of_id, conversation_id, in_reply_to_id, poll_id, deleted_at
    from statuses where id = ${id} and deleted_at is null`;
  return row;
}

/** Whether any local account follows this one (Mastodon's followed_by_local_accounts?). */
export async function hasLocalFollowers(db: Db, accountId: string): Promise<boolean> {
  const [row] = await db`
    select 1 from follows f join accounts a on a.id = f.account_id
    where f.target_account_id = ${accountId} and a.domain is null limit 1`;
  return row !== undefined;
}

/** Local accounts among these actor URIs. */
export async function localAccountsByUris(db: Db, uris: string[]): Promise<AccountRef[]> {
  if (uris.length === 0) return [];
  return db<AccountRef[]>`
    select id, uri, domain, username, locked, suspended_at from accounts where uri = any(${uris}::text[]) and domain is null`;
}

/** Local accounts following this one (a Move takes them along). */
export async function localFollowersOf(db: Db, accountId: string, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select f.account_id::text as id from follows f join accounts a on a.id = f.account_id
    where f.target_account_id = ${accountId} and a.domain is null order by f.id limit ${limit}`;
  return rows.map((r) => r.id);
}

/**
 * Mentions that are not shown (Mastodon's silent mentions): local accounts a followers-only or direct post is
 * addressed to without a Mention tag still get to see it.
 */
export async function insertSilentMentions(db: Db, statusId: string, accountIds: string[]): Promise<void> {
  if (accountIds.length === 0) return;
  await db`
    insert into mentions (status_id, account_id, silent)
    select ${statusId}, unnest(${accountIds}::bigint[]), true on conflict do nothing`;
}

/** Whether an account is local (domain null); undefined when there is no such account. */
export async function isLocalAccountId(db: Db, id: string): Promise<boolean | undefined> {
  const [row] = await db<{ local: boolean }[]>`select domain is null as local from accounts where id = ${id}`;
  return row?.local;
}
