/**
 * User archives (Mastodon's Settings → Export → "Request your archive", its BackupService): a .tar.gz with
 * outbox.json (every status of the account as a Create or Announce, all visibilities, as Mastodon's archive),
 * actor.json, likes.json, bookmarks.json and the account's media files under their storage keys. The archive
 * is kept in storage under archives/ (private: never served by /system/) until the user archive retention
 * period (`backups_retention_period`, days) has passed; the archives.retention job then deletes it.
 *
 * Building is safe to run twice: a row leaves `pending` only once, and a second build of the same row finds
 * it done and does nothing (the file of a build that lost that race is deleted).
 */
import { findLocalAccount } from "../accounts/service";
import { NOTE_CONTEXT, withContext } from "../federation/activities";
import { outboxActivities } from "../federation/outbound";
import { renderPerson } from "../federation/outbound-actor";
import { deleteQuietly } from "../media/service";
import { getSetting } from "../settings/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { storageFor } from "../../infra/storage/index";
import { log } from "../../infra/log";
import * as store from "./store";

export type { ArchiveRow } from "./store";

const DAY_MS = 24 * 3600 * 1000;
/** Statuses rendered per query round: bounds memory for the rows, not for the archive (kept in memory). */
const PAGE = 200;
export const ARCHIVE_CONTENT_TYPE = "application/gzip";

/** A new pending archive row for a local account; the caller queues archives.build (or builds it now). */
export async function createArchiveRequest(context: Pick<AppContext, "sql">, username: string): Promise<store.ArchiveRow> {
  const account = await findLocalAccount(context.sql, username);
  return store.insertPending(context.sql, account.id);
}

export const findArchive = (context: Pick<AppContext, "sql">, id: string) => store.find(context.sql, id);

function collection(id: string, items: unknown[]): Record<string, unknown> {
  return withContext(NOTE_CONTEXT, { id, type: "OrderedCollection", totalItems: items.length, orderedItems: items });
}

/** The archive's files (name → content), as Mastodon lays them out. */
export async function archiveFiles(context: AppContext, accountId: string): Promise<Record<string, Uint8Array | string>> {
  const [named] = await context.sql<{ username: string }[]>`select username from accounts where id = ${accountId} and domain is null`;
  if (!named) throw ApiError.notFound("No local account for this archive");
  const account = await findLocalAccount(context.sql, named.username);
  const { config } = context;

  const activities: Record<string, unknown>[] = [];
  for (let before: string | null = null; ; ) {
    const ids = await store.statusIdsPage(context.sql, account.id, before, PAGE);
    if (ids.length === 0) break;
    activities.push(...(await outboxActivities(context, account.uri, ids)));
    before = ids[ids.length - 1]!;
    if (ids.length < PAGE) break;
  }

  const files: Record<string, Uint8Array | string> = {
    "outbox.json": JSON.stringify(collection("outbox.json", activities)),
    "actor.json": JSON.stringify(renderPerson(config, account)),
    "likes.json": JSON.stringify(collection("likes.json", await store.interactedUris(context.sql, "favourites", account.id))),
    "bookmarks.json": JSON.stringify(collection("bookmarks.json", await store.interactedUris(context.sql, "bookmarks", account.id))),
  };
  const storage = storageFor(config);
  for (const key of await store.mediaKeys(context.sql, account.id)) {
    const body = await storage.get(key);
    // A file missing from the store is left out rather than failing the whole archive.
    // Read into memory: Bun.Archive does not read a lazy file handle (local storage hands out Bun.file).
    if (body) files[key] = await new Response(body).bytes();
    else log.warn("archive: media file missing from storage", { key });
  }
  return files;
}

/** Build the archive for a pending row and store it. Returns the row as it is afterwards. */
export async function buildArchive(context: AppContext, archiveId: string): Promise<store.ArchiveRow | undefined> {
  const row = await store.find(context.sql, archiveId);
  if (!row || row.state !== "pending" || row.account_id === null) return row;
  const files = await archiveFiles(context, row.account_id);
  const bytes = await new Bun.Archive(files, { compress: "gzip" }).bytes();
  const key = `archives/${row.account_id}/${row.id}-${crypto.randomUUID()}.tar.gz`;
  const storage = storageFor(context.config);
  await storage.put(key, bytes, { contentType: ARCHIVE_CONTENT_TYPE, private: true });
  if (!(await store.markDone(context.sql, row.id, key, bytes.byteLength))) await deleteQuietly(storage, [key]);
  return store.find(context.sql, archiveId);
}

export const markArchiveFailed = (context: Pick<AppContext, "sql">, id: string, error: string) => store.markFailed(context.sql, id, error);

/** The archive's bytes, or undefined when it is not built (or already removed). */
export async function readArchive(context: Pick<AppContext, "config">, row: store.ArchiveRow): Promise<Blob | undefined> {
  if (row.state !== "done" || !row.storage_key) return undefined;
  const body = await storageFor(context.config).get(row.storage_key);
  if (!body) return undefined;
  return body instanceof Blob ? body : new Response(body).blob();
}

/** The user archive retention period in force (days), or null (keep forever). */
export function archiveRetentionDays(context: Pick<AppContext, "sql">): Promise<number | null> {
  return getSetting(context.sql, "backups_retention_period");
}

export interface ArchiveCleanupReport {
  /** Ids of the archives removed (or that would be, on a dry run). */
  removed: string[];
  bytes: number;
}

/**
 * Remove archives older than `days` (null: only those whose account is gone), files first, then rows, in
 * batches; a dry run only reports.
 */
export async function removeOldArchives(context: AppContext, options: { days: number | null; dryRun?: boolean; batchSize?: number; now?: number }): Promise<ArchiveCleanupReport> {
  const cutoff = options.days === null ? null : new Date((options.now ?? Date.now()) - options.days * DAY_MS);
  const batchSize = options.batchSize ?? 100;
  const storage = storageFor(context.config);
  const report: ArchiveCleanupReport = { removed: [], bytes: 0 };
  for (let after = "0"; ; ) {
    const rows = await store.expired(context.sql, cutoff, after, batchSize);
    if (rows.length === 0) break;
    report.removed.push(...rows.map((r) => r.id));
    report.bytes += rows.reduce((sum, r) => sum + Number(r.size_bytes ?? 0), 0);
    if (!options.dryRun) {
      await deleteQuietly(storage, rows.map((r) => r.storage_key));
      await store.deleteRows(context.sql, rows.map((r) => r.id));
    }
    after = rows[rows.length - 1]!.id;
    if (rows.length < batchSize) break;
  }
  return report;
}
