/**
 * Media uploads: validate (sniffed type, size, pixel limits), process (images.ts, av.ts), store the files and
 * the row. Files are written before the row and deleted again if anything after them fails, so a failed
 * upload leaves nothing behind; rows are removed before their files, so a row never points at nothing.
 *
 * Two ways in, as Mastodon: POST /api/v1/media processes inside the request; POST /api/v2/media stores the
 * raw upload privately, answers 202 and leaves the work to the `media.process` job.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { log } from "../../infra/log";
import { IMMUTABLE_CACHE_CONTROL, storageFor, type Storage } from "../../infra/storage/index";
import type { LocalAccountRow } from "../accounts/service";
import { probeAv } from "./av";
import { geometry, inspectImage, processImage, processThumbnail, type ImageVariant } from "./images";
import { DESCRIPTION_LIMIT, IMAGE_SIZE_LIMIT, VIDEO_SIZE_LIMIT } from "./limits";
import { sniff, type Sniffed } from "./sniff";
import { processMediaJob } from "./jobs";
import * as store from "./store";

export type { MediaRow, Focus } from "./store";

type Context = Pick<AppContext, "config" | "sql" | "queues">;

export interface UploadInput {
  file: Blob;
  thumbnail?: Blob;
  description?: string;
  focus?: store.Focus;
}

const MB = 1024 * 1024;
const invalidType = () => ApiError.unprocessable("Validation failed: File content type is invalid");

/** Media keys: `media_attachments/files/<id in 3-digit groups>/<style>/<random>.<ext>`, as Mastodon lays them out. */
export function mediaKey(id: string, style: "original" | "small", ext: string): string {
  const padded = id.padStart(Math.ceil(id.length / 3) * 3, "0");
  const partition = padded.match(/\d{3}/g)!.join("/");
  return `media_attachments/files/${partition}/${style}/${randomHex()}.${ext}`;
}

const uploadKey = (ext: string) => `tmp/uploads/${randomHex()}.${ext}`;

function randomHex(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");
}

async function readChecked(blob: Blob, what: "File" | "Thumbnail", imagesOnly: boolean): Promise<{ bytes: Uint8Array; sniffed: Sniffed }> {
  // Refuse by declared size first, so a 98 MB "image" is never read; then again by the sniffed kind.
  if (blob.size > (imagesOnly ? IMAGE_SIZE_LIMIT : VIDEO_SIZE_LIMIT)) throw tooBig(what, imagesOnly ? IMAGE_SIZE_LIMIT : VIDEO_SIZE_LIMIT);
  const bytes = await blob.bytes();
  const sniffed = sniff(bytes);
  if (!sniffed || (imagesOnly && sniffed.kind !== "image")) {
    throw what === "File" ? invalidType() : ApiError.unprocessable("Validation failed: Thumbnail content type is invalid");
  }
  const limit = sniffed.kind === "image" ? IMAGE_SIZE_LIMIT : VIDEO_SIZE_LIMIT;
  if (bytes.byteLength > limit) throw tooBig(what, limit);
  return { bytes, sniffed };
}

const tooBig = (what: string, limit: number) => ApiError.unprocessable(`Validation failed: ${what} file size must be less than ${limit / MB} MB`);

export interface Output {
  type: store.MediaType;
  original: { data: Uint8Array; contentType: string; ext: string };
  small?: ImageVariant;
  blurhash: string | null;
  meta: Record<string, unknown>;
}

/** Everything CPU-bound: one upload in, the files and meta to store out. */
export async function processFile(bytes: Uint8Array, sniffed: Sniffed): Promise<Output> {
  if (sniffed.kind === "image") {
    const image = await processImage(bytes, sniffed);
    return {
      type: "image",
      original: image.original,
      small: image.small,
      blurhash: image.blurhash,
      meta: { original: geometry(image.original), small: geometry(image.small) },
    };
  }
  const av = await probeAv(bytes, sniffed);
  const contentType = av.kind === sniffed.kind ? sniffed.contentType : sniffed.contentType.replace(/^video\//, "audio/");
  const output: Output = { type: av.kind, original: { data: bytes, contentType, ext: sniffed.ext }, blurhash: null, meta: {} };
  if (av.original) output.meta.original = av.original;
  if (av.frame) {
    const frame = await processThumbnail(av.frame, { kind: "image", contentType: "image/png", ext: "png" });
    output.small = frame.small;
    output.blurhash = frame.blurhash;
    output.meta.small = geometry(frame.small);
  }
  return output;
}

/** Store files under new keys; if any write fails, remove the ones already written and rethrow. */
export async function putAll(storage: Storage, files: { key: string; data: Uint8Array; contentType: string; private?: boolean }[]): Promise<void> {
  const written: string[] = [];
  try {
    for (const file of files) {
      await storage.put(file.key, file.data, {
        contentType: file.contentType,
        cacheControl: file.private ? undefined : IMMUTABLE_CACHE_CONTROL,
        private: file.private,
      });
      written.push(file.key);
    }
  } catch (error) {
    await deleteQuietly(storage, written);
    throw error;
  }
}

export async function deleteQuietly(storage: Storage, keys: (string | null)[]): Promise<void> {
  const present = keys.filter((k): k is string => !!k);
  if (present.length === 0) return;
  await storage.delete(present).catch((error) => log.warn("media files could not be deleted", { keys: present, error: (error as Error).message }));
}

async function checkedThumbnail(input: UploadInput, sniffed: Sniffed) {
  if (!input.thumbnail || input.thumbnail.size === 0) return undefined;
  // As Mastodon: a custom preview only makes sense for sound and video; images are their own preview.
  if (sniffed.kind === "image") throw ApiError.unprocessable("Validation failed: Thumbnail must be blank");
  const thumbnail = await readChecked(input.thumbnail, "Thumbnail", true);
  return processThumbnail(thumbnail.bytes, thumbnail.sniffed);
}

/** POST /api/v1/media: processed now; the row is complete when this returns. */
export async function uploadNow(context: Context, account: LocalAccountRow, input: UploadInput): Promise<store.MediaRow> {
  const storage = storageFor(context.config);
  const { bytes, sniffed } = await readChecked(input.file, "File", false);
  const thumbnail = await checkedThumbnail(input, sniffed);
  const output = await processFile(bytes, sniffed);
  const id = await store.newId(context.sql);
  const small = thumbnail?.small ?? output.small;
  const files = [{ key: mediaKey(id, "original", output.original.ext), data: output.original.data, contentType: output.original.contentType }];
  if (small) files.push({ key: mediaKey(id, "small", small.ext), data: small.data, contentType: small.contentType });
  await putAll(storage, files);
  try {
    return await store.insert(context.sql, {
      id,
      accountId: account.id,
      type: output.type,
      fileKey: files[0]!.key,
      smallKey: files[1]?.key ?? null,
      uploadKey: null,
      contentType: output.original.contentType,
      fileSize: output.original.data.byteLength,
      smallFileSize: small?.data.byteLength ?? 0,
      meta: { ...output.meta, ...(small && { small: geometry(small) }) },
      description: input.description || null,
      blurhash: thumbnail?.blurhash ?? output.blurhash,
      focus: input.focus ?? null,
      processing: "done",
    });
  } catch (error) {
    await deleteQuietly(storage, files.map((f) => f.key));
    throw error;
  }
}

/**
 * POST /api/v2/media: the cheap checks now (type, size, an image's header and pixel limits, the custom
 * thumbnail), the raw bytes stored privately, the row inserted as pending, then the job enqueued.
 */
export async function uploadLater(context: Context, account: LocalAccountRow, input: UploadInput): Promise<store.MediaRow> {
  const storage = storageFor(context.config);
  const { bytes, sniffed } = await readChecked(input.file, "File", false);
  if (sniffed.kind === "image") await inspectImage(bytes, sniffed);
  const thumbnail = await checkedThumbnail(input, sniffed);
  const id = await store.newId(context.sql);
  const files = [{ key: uploadKey(sniffed.ext), data: bytes, contentType: sniffed.contentType, private: true }];
  if (thumbnail) files.push({ key: mediaKey(id, "small", thumbnail.small.ext), data: thumbnail.small.data, contentType: thumbnail.small.contentType, private: false });
  await putAll(storage, files);
  let row: store.MediaRow;
  try {
    row = await store.insert(context.sql, {
      id,
      accountId: account.id,
      type: sniffed.kind,
      fileKey: null,
      smallKey: files[1]?.key ?? null,
      uploadKey: files[0]!.key,
      contentType: null,
      fileSize: 0,
      smallFileSize: thumbnail?.small.data.byteLength ?? 0,
      meta: thumbnail ? { small: geometry(thumbnail.small) } : {},
      description: input.description || null,
      blurhash: thumbnail?.blurhash ?? null,
      focus: input.focus ?? null,
      processing: "pending",
    });
  } catch (error) {
    await deleteQuietly(storage, files.map((f) => f.key));
    throw error;
  }
  try {
    // After the commit (the insert above is its own transaction), so the job always finds its row.
    await context.queues.enqueue(processMediaJob, { id }, { jobId: `media.process-${id}` });
  } catch (error) {
    await store.remove(context.sql, id);
    await deleteQuietly(storage, files.map((f) => f.key));
    throw error;
  }
  return row;
}

/**
 * The media.process job. Safe to run twice: a row that is no longer pending is skipped, and if two runs race
 * the loser's `finish` matches nothing and it deletes the files it wrote.
 * Returns false when the upload could not be processed (the row is then marked failed).
 */
export async function processPending(context: Pick<AppContext, "config" | "sql">, id: string): Promise<boolean> {
  const storage = storageFor(context.config);
  const row = await store.find(context.sql, id);
  if (!row || row.processing !== "pending" || !row.upload_key) return true;
  const body = await storage.get(row.upload_key);
  const bytes = body ? await new Response(body).bytes() : undefined;
  const sniffed = bytes && sniff(bytes);
  let output: Output;
  try {
    if (!bytes || !sniffed) throw invalidType();
    output = await processFile(bytes, sniffed);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error; // storage or system trouble: let the job retry
    log.info("media upload could not be processed", { id, error: error.message });
    await store.markFailed(context.sql, id);
    await deleteQuietly(storage, [row.upload_key]);
    return false;
  }
  // A custom thumbnail given at upload stays the preview.
  const keepSmall = row.small_key !== null;
  const small = keepSmall ? undefined : output.small;
  const files = [{ key: mediaKey(id, "original", output.original.ext), data: output.original.data, contentType: output.original.contentType }];
  if (small) files.push({ key: mediaKey(id, "small", small.ext), data: small.data, contentType: small.contentType });
  await putAll(storage, files);
  let finished: store.MediaRow | undefined;
  try {
    const meta = { ...output.meta };
    if (keepSmall) delete meta.small;
    finished = await store.finish(context.sql, id, {
      type: output.type,
      fileKey: files[0]!.key,
      smallKey: keepSmall ? row.small_key : (files[1]?.key ?? null),
      contentType: output.original.contentType,
      fileSize: output.original.data.byteLength,
      smallFileSize: keepSmall ? Number(row.small_file_size) : (small?.data.byteLength ?? 0),
      meta,
      blurhash: keepSmall ? row.blurhash : output.blurhash,
    });
  } catch (error) {
    await deleteQuietly(storage, files.map((f) => f.key));
    throw error;
  }
  if (!finished) await deleteQuietly(storage, files.map((f) => f.key));
  else await deleteQuietly(storage, [row.upload_key]);
  return true;
}

/** Mark a pending upload failed after its job gave up, and drop its raw upload. */
export async function giveUp(context: Pick<AppContext, "config" | "sql">, id: string): Promise<void> {
  const row = await store.find(context.sql, id);
  if (!row || row.processing !== "pending") return;
  await store.markFailed(context.sql, id);
  await deleteQuietly(storageFor(context.config), [row.upload_key]);
}

/** The caller's own media that is not attached to a status yet (what GET and PUT may see); else 404. */
export async function findOwnUnattached(context: Pick<AppContext, "sql">, account: LocalAccountRow, id: string): Promise<store.MediaRow> {
  const row = isId(id) ? await store.findOwned(context.sql, account.id, id) : undefined;
  if (!row || row.status_id !== null) throw ApiError.notFound();
  return row;
}

export async function updateDetails(
  context: Pick<AppContext, "sql">,
  account: LocalAccountRow,
  id: string,
  changes: { description?: string; focus?: store.Focus },
): Promise<store.MediaRow> {
  await findOwnUnattached(context, account, id);
  const updated = await store.updateDetails(context.sql, id, {
    description: changes.description === undefined ? undefined : changes.description || null,
    focus: changes.focus,
  });
  if (!updated) throw ApiError.notFound();
  return updated;
}

/** DELETE /api/v1/media/:id: own media only; attached media stays (422), as Mastodon 4.4. */
export async function deleteOwn(context: Pick<AppContext, "config" | "sql">, account: LocalAccountRow, id: string): Promise<void> {
  const row = isId(id) ? await store.findOwned(context.sql, account.id, id) : undefined;
  if (!row) throw ApiError.notFound();
  if (row.status_id !== null) throw ApiError.unprocessable("Media attachment is currently used by a status");
  const removed = await store.remove(context.sql, id);
  if (!removed) throw ApiError.unprocessable("Media attachment is currently used by a status");
  await deleteQuietly(storageFor(context.config), [removed.file_key, removed.small_key, removed.upload_key]);
}

export interface OrphanSweep {
  count: number;
  bytes: number;
}

/**
 * Unattached uploads older than `olderThanMs` (default 24 h), removed in batches of at most `batchSize`:
 * each batch is locked (so it cannot be attached meanwhile), its files deleted, then its rows.
 */
export async function removeOrphans(
  context: Pick<AppContext, "config" | "sql">,
  options: { olderThanMs?: number; batchSize?: number; dryRun?: boolean } = {},
): Promise<OrphanSweep> {
  const before = new Date(Date.now() - (options.olderThanMs ?? 24 * 3600 * 1000));
  if (options.dryRun) return store.countOrphans(context.sql, before);
  const batchSize = Math.min(500, Math.max(1, options.batchSize ?? 500));
  const storage = storageFor(context.config);
  const total = { count: 0, bytes: 0 };
  for (;;) {
    const batch = await context.sql.begin(async (tx) => {
      const rows = await store.lockOrphans(tx, before, batchSize);
      if (rows.length === 0) return rows;
      await storage.delete(rows.flatMap((r) => [r.file_key, r.small_key, r.upload_key]).filter((k): k is string => !!k));
      await store.removeMany(tx, rows.map((r) => r.id));
      return rows;
    });
    total.count += batch.length;
    total.bytes += batch.reduce((sum, r) => sum + Number(r.file_size) + Number(r.small_file_size), 0);
    if (batch.length < batchSize) return total;
  }
}

export const mediaUsage = store.usage;
/** Count and bytes of remote media that currently holds a cached copy. */
export const cachedRemoteMedia = store.cachedRemoteTotals;

const MAX_ID = 9223372036854775807n;
function isId(text: string): boolean {
  return /^\d{1,19}$/.test(text) && BigInt(text) <= MAX_ID;
}

// ---- statuses use these, inside their own transaction ----

export const mediaOfStatuses = store.findByStatusIds;
export const detachMediaFromStatus = store.detachFromStatus;

/**
 * Attach the author's own processed media to a status (shown in upload order). Anything else — someone else's,
 * still processing, failed, or on another status — is refused whole with Mastodon's 422, so a post never
 * goes out with part of its media.
 */
export async function attachMedia(db: Db, accountId: string, statusId: string, ids: string[]): Promise<void> {
  const wanted = await lockOwnAttachable(db, accountId, statusId, ids);
  if (wanted.length > 0) await store.setStatus(db, statusId, wanted);
}

/** Reserve media for a scheduled post (same rules as attaching), so the orphan sweep keeps it. */
export async function reserveMediaForScheduled(db: Db, accountId: string, scheduledStatusId: string, ids: string[]): Promise<void> {
  const wanted = await lockOwnAttachable(db, accountId, null, ids);
  if (wanted.length > 0) await store.setScheduled(db, scheduledStatusId, wanted);
}

async function lockOwnAttachable(db: Db, accountId: string, statusId: string | null, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const wanted = [...new Set(ids)];
  if (!wanted.every(isId)) throw ApiError.unprocessable("Validation failed: Media attachments are invalid");
  const rows = await store.lockAttachable(db, accountId, wanted, statusId);
  if (rows.length !== wanted.length) {
    const pending = await Promise.all(wanted.map((id) => store.findOwned(db, accountId, id)));
    if (pending.some((row) => row?.processing === "pending")) throw ApiError.unprocessable("Cannot attach files that have not finished processing. Try again in a moment!");
    throw ApiError.unprocessable("Validation failed: Media attachments are invalid");
  }
  return wanted;
}

/** Media rows by id (a status's earlier versions name media that may since have been detached). */
export const mediaByIds = store.findByIds;

/** Description and focus of media on one's own status (PUT /api/v1/statuses/:id media_attributes[]). */
export async function updateAttachedDetails(
  db: Db,
  accountId: string,
  statusId: string,
  changes: { id: string; description?: string | null; focus?: store.Focus | null },
): Promise<void> {
  if (!isId(changes.id)) throw ApiError.unprocessable("Validation failed: Media attachments are invalid");
  const row = await store.findOwned(db, accountId, changes.id);
  if (!row || row.status_id !== statusId) throw ApiError.unprocessable("Validation failed: Media attachments are invalid");
  if (changes.description && [...changes.description].length > DESCRIPTION_LIMIT) {
    throw ApiError.unprocessable(`Validation failed: Description is too long (maximum is ${DESCRIPTION_LIMIT} characters)`);
  }
  await store.updateDetails(db, changes.id, { description: changes.description, focus: changes.focus });
}
