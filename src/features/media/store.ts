/** media_attachments SQL. Only the media service calls this. */
import type { Db, Sql, Tx } from "../../infra/db";

export type MediaType = "unknown" | "image" | "gifv" | "video" | "audio";
export type Processing = "pending" | "done" | "failed";
export interface Focus {
  x: number;
  y: number;
}

export interface MediaRow {
  id: string;
  account_id: string;
  status_id: string | null;
  /** Reserved by a scheduled post until it is published (migration 0007). */
  scheduled_status_id: string | null;
  type: MediaType;
  file_key: string | null;
  small_key: string | null;
  upload_key: string | null;
  content_type: string | null;
  file_size: string;
  small_file_size: string;
  meta: Record<string, unknown>;
  description: string | null;
  blurhash: string | null;
  focus: Focus | null;
  processing: Processing;
  remote_url: string | null;
  /** The unguessable part of this row's /media_proxy URLs (migration 0019). */
  proxy_token: string;
  /** Remote media: when the cached copy was last viewed (at most hourly); null while not cached. */
  cache_accessed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function newId(db: Db): Promise<string> {
  const [row] = await db<{ id: string }[]>`select woolly_id()::text as id`;
  return row!.id;
}

export interface NewMedia {
  id: string;
  accountId: string;
  type: MediaType;
  fileKey: string | null;
  smallKey: string | null;
  uploadKey: string | null;
  contentType: string | null;
  fileSize: number;
  smallFileSize: number;
  meta: Record<string, unknown>;
  description: string | null;
  blurhash: string | null;
  focus: Focus | null;
  processing: Processing;
}

export async function insert(db: Db, m: NewMedia): Promise<MediaRow> {
  const [row] = await db<MediaRow[]>`
    insert into media_attachments (id, account_id, type, file_key, small_key, upload_key, content_type, file_size, small_file_size,
                                   meta, description, blurhash, focus, processing)
    values (${m.id}, ${m.accountId}, ${m.type}, ${m.fileKey}, ${m.smallKey}, ${m.uploadKey}, ${m.contentType}, ${m.fileSize},
            ${m.smallFileSize}, ${db.json(m.meta as never)}, ${m.description}, ${m.blurhash},
            ${m.focus ? db.json(m.focus as never) : null}, ${m.processing})
    returning *`;
  return row!;
}

export async function find(db: Db, id: string): Promise<MediaRow | undefined> {
  const [row] = await db<MediaRow[]>`select * from media_attachments where id = ${id}`;
  return row;
}

export async function findOwned(db: Db, accountId: string, id: string): Promise<MediaRow | undefined> {
  const [row] = await db<MediaRow[]>`select * from media_attachments where id = ${id} and account_id = ${accountId}`;
  return row;
}

export async function updateDetails(db: Db, id: string, changes: { description?: string | null; focus?: Focus | null }): Promise<MediaRow | undefined> {
  const setDescription = changes.description !== undefined;
  const setFocus = changes.focus !== undefined;
  const [row] = await db<MediaRow[]>`
    update media_attachments set
      description = case when ${setDescription}::boolean then ${changes.description ?? null}::text else description end,
      focus = case when ${setFocus}::boolean then ${changes.focus ? db.json(changes.focus as never) : null}::jsonb else focus end,
      updated_at = now()
    where id = ${id}
    returning *`;
  return row;
}

export interface Processed {
  type: MediaType;
  fileKey: string;
  smallKey: string | null;
  contentType: string;
  fileSize: number;
  smallFileSize: number;
  meta: Record<string, unknown>;
  blurhash: string | null;
}

/** Finish a pending row; undefined when it is no longer pending (deleted, or finished by another run). */
export async function finish(db: Db, id: string, p: Processed): Promise<MediaRow | undefined> {
  const [row] = await db<MediaRow[]>`
    update media_attachments set
      type = ${p.type}, file_key = ${p.fileKey}, small_key = ${p.smallKey}, content_type = ${p.contentType},
      file_size = ${p.fileSize}, small_file_size = ${p.smallFileSize}, meta = meta || ${db.json(p.meta as never)},
      blurhash = ${p.blurhash}, upload_key = null, processing = 'done', updated_at = now()
    where id = ${id} and processing = 'pending'
    returning *`;
  return row;
}

export async function markFailed(db: Db, id: string): Promise<void> {
  await db`update media_attachments set processing = 'failed', upload_key = null, updated_at = now() where id = ${id} and processing = 'pending'`;
}

export async function remove(db: Db, id: string): Promise<MediaRow | undefined> {
  const [row] = await db<MediaRow[]>`delete from media_attachments where id = ${id} and status_id is null returning *`;
  return row;
}

/** A batch of unattached media created before `before`, locked so nobody attaches them meanwhile. */
export async function lockOrphans(tx: Tx, before: Date, limit: number): Promise<MediaRow[]> {
  return tx<MediaRow[]>`
    select * from media_attachments
    where status_id is null and scheduled_status_id is null and created_at < ${before}
    order by created_at
    limit ${limit}
    for update skip locked`;
}

export async function countOrphans(db: Db, before: Date): Promise<{ count: number; bytes: number }> {
  const [row] = await db<{ count: string; bytes: string }[]>`
    select count(*)::text as count, coalesce(sum(file_size + small_file_size), 0)::text as bytes
    from media_attachments where status_id is null and scheduled_status_id is null and created_at < ${before}`;
  return { count: Number(row!.count), bytes: Number(row!.bytes) };
}

export async function removeMany(tx: Tx, ids: string[]): Promise<void> {
  await tx`delete from media_attachments where id = any(${ids}::bigint[])`;
}

export interface UsageRow {
  origin: "local" | "remote";
  type: MediaType;
  count: number;
  bytes: number;
}

export async function usage(sql: Sql): Promise<UsageRow[]> {
  const rows = await sql<{ origin: "local" | "remote"; type: MediaType; count: string; bytes: string }[]>`
    select case when a.domain is null then 'local' else 'remote' end as origin, m.type,
           count(*)::text as count, coalesce(sum(m.file_size + m.small_file_size), 0)::text as bytes
    from media_attachments m join accounts a on a.id = m.account_id
    group by 1, 2 order by 1, 2`;
  return rows.map((r) => ({ origin: r.origin, type: r.type, count: Number(r.count), bytes: Number(r.bytes) }));
}

// ---- attaching to statuses (called by the statuses service, inside its transaction) ----

/** The attachments of many statuses, in upload order (the order clients see them). */
export async function findByStatusIds(db: Db, statusIds: string[]): Promise<MediaRow[]> {
  if (statusIds.length === 0) return [];
  return db<MediaRow[]>`select * from media_attachments where status_id = any(${statusIds}::bigint[]) order by id`;
}

/** Own media that is processed and unattached (or already on this status), locked; others are left out. */
export async function lockAttachable(db: Db, accountId: string, ids: string[], statusId: string | null): Promise<MediaRow[]> {
  if (ids.length === 0) return [];
  return db<MediaRow[]>`
    select * from media_attachments
    where id = any(${ids}::bigint[]) and account_id = ${accountId} and processing = 'done'
      and (status_id is null or status_id = ${statusId}) and scheduled_status_id is null
    for update`;
}

export async function setStatus(db: Db, statusId: string, ids: string[]): Promise<void> {
  await db`update media_attachments set status_id = ${statusId}, updated_at = now() where id = any(${ids}::bigint[])`;
}

/** Unattach a status's media (all of it, or all but `keep`) so it can be re-attached or swept as an orphan. */
export async function detachFromStatus(db: Db, statusId: string, keep: string[] = []): Promise<void> {
  await db`
    update media_attachments set status_id = null, updated_at = now()
    where status_id = ${statusId} and not (id = any(${keep}::bigint[]))`;
}

export async function findByIds(db: Db, ids: string[]): Promise<MediaRow[]> {
  if (ids.length === 0) return [];
  return db<MediaRow[]>`select * from media_attachments where id = any(${ids}::bigint[])`;
}

export async function setScheduled(db: Db, scheduledStatusId: string, ids: string[]): Promise<void> {
  await db`update media_attachments set scheduled_status_id = ${scheduledStatusId}, updated_at = now() where id = any(${ids}::bigint[])`;
}

// ---- remote media, cached lazily (remote.ts, cache.ts) ----

/** A remote row plus its author's domain, if it may be shown at all: a live status by an author not suspended. */
export async function findRemoteAttached(db: Db, id: string): Promise<(MediaRow & { account_domain: string | null }) | undefined> {
  // statuses is the statuses feature's table; this one read of it keeps the proxy's hot path at one query.
  const [row] = await db<(MediaRow & { account_domain: string | null })[]>`
    select m.*, a.domain as account_domain
    from media_attachments m join accounts a on a.id = m.account_id
    where m.id = ${id} and m.remote_url is not null and m.status_id is not null and a.suspended_at is null
      and exists (select 1 from statuses s where s.id = m.status_id and s.deleted_at is null)`;
  return row;
}

export interface Cached extends Processed {
  blurhash: string | null;
}

/** Record a fetched copy; undefined when the row is gone or already holds one (the caller drops its files). */
export async function fillCache(db: Db, id: string, p: Cached): Promise<MediaRow | undefined> {
  const [row] = await db<MediaRow[]>`
    update media_attachments set
      type = ${p.type}, file_key = ${p.fileKey}, small_key = ${p.smallKey}, content_type = ${p.contentType},
      file_size = ${p.fileSize}, small_file_size = ${p.smallFileSize}, meta = meta || ${db.json(p.meta as never)},
      blurhash = coalesce(blurhash, ${p.blurhash}), cache_accessed_at = now(), updated_at = now()
    where id = ${id} and remote_url is not null and file_key is null
    returning *`;
  return row;
}

export async function touchCache(db: Db, id: string): Promise<void> {
  await db`update media_attachments set cache_accessed_at = now() where id = ${id} and file_key is not null`;
}

export interface Evicted {
  id: string;
  file_key: string | null;
  small_key: string | null;
  bytes: string;
}

/** Put cached remote rows back to "not cached"; returns the keys that were freed (each row only once). */
export async function evictCached(db: Db, ids: string[]): Promise<Evicted[]> {
  if (ids.length === 0) return [];
  return db<Evicted[]>`
    update media_attachments m set file_key = null, small_key = null, content_type = null, file_size = 0,
      small_file_size = 0, cache_accessed_at = null, updated_at = now()
    from (select id, file_key, small_key, file_size + small_file_size as bytes from media_attachments
          where id = any(${ids}::bigint[]) and remote_url is not null and file_key is not null
          for update skip locked) old
    where m.id = old.id
    returning old.id::text as id, old.file_key, old.small_key, old.bytes::text as bytes`;
}

export async function cachedRemoteTotals(db: Db): Promise<{ count: number; bytes: number }> {
  const [row] = await db<{ count: string; bytes: string }[]>`
    select count(*)::text as count, coalesce(sum(file_size + small_file_size), 0)::text as bytes
    from media_attachments where remote_url is not null and file_key is not null`;
  return { count: Number(row!.count), bytes: Number(row!.bytes) };
}

export interface CacheCandidate {
  id: string;
  bytes: string;
}

/** Cached remote copies last viewed before `before`, oldest first. */
export async function staleCached(db: Db, before: Date, limit: number): Promise<CacheCandidate[]> {
  return db<CacheCandidate[]>`
    select id::text, (file_size + small_file_size)::text as bytes from media_attachments
    where remote_url is not null and file_key is not null and cache_accessed_at < ${before}
    order by cache_accessed_at, id limit ${limit}`;
}

export async function staleTotals(db: Db, before: Date): Promise<{ count: number; bytes: number }> {
  const [row] = await db<{ count: string; bytes: string }[]>`
    select count(*)::text as count, coalesce(sum(file_size + small_file_size), 0)::text as bytes from media_attachments
    where remote_url is not null and file_key is not null and cache_accessed_at < ${before}`;
  return { count: Number(row!.count), bytes: Number(row!.bytes) };
}

export interface RefreshFilter {
  statusId?: string;
  accountId?: string;
  domain?: string;
  /** An account by handle: username@domain. */
  acct?: { username: string; domain: string };
  /** Also rows that hold a cached copy (fetched again). */
  force?: boolean;
}

/** Remote rows to (re)fetch, by id after `afterId`, for `woolly admin media refresh`. */
export async function remoteForRefresh(db: Db, filter: RefreshFilter, afterId: string, limit: number): Promise<MediaRow[]> {
  return db<MediaRow[]>`
    select m.* from media_attachments m join accounts a on a.id = m.account_id
    where m.remote_url is not null and m.status_id is not null and m.id > ${afterId}
      and (${filter.force ?? false}::boolean or m.file_key is null)
      and (${filter.statusId ?? null}::bigint is null or m.status_id = ${filter.statusId ?? null}::bigint)
      and (${filter.accountId ?? null}::bigint is null or m.account_id = ${filter.accountId ?? null}::bigint)
      and (${filter.acct?.username ?? null}::text is null or (lower(a.username) = lower(${filter.acct?.username ?? null}::text) and a.domain = ${filter.acct?.domain ?? null}::text))
      and (${filter.domain ?? null}::text is null or a.domain = ${filter.domain ?? null}::text or a.domain like ${"%." + (filter.domain ?? "")})
    order by m.id limit ${limit}`;
}

/**
 * Uncached remote attachments of a status whose remote author at least one local account follows (for
 * MEDIA_FETCH_FOLLOWED). Empty for local statuses, relayed posts by unfollowed authors and cached rows.
 */
export async function uncachedOfFollowedStatus(db: Db, statusId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select m.id from media_attachments m
    join statuses s on s.id = m.status_id and s.deleted_at is null
    join accounts a on a.id = s.account_id and a.domain is not null and a.suspended_at is null
    where m.status_id = ${statusId} and m.remote_url is not null and m.file_key is null
      and exists (select 1 from follows f join accounts l on l.id = f.account_id
                  where f.target_account_id = s.account_id and l.domain is null)
    order by m.id limit 16`;
  return rows.map((r) => r.id);
}
