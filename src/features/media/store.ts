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
