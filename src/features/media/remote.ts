/**
 * Remote media, cached lazily. Ingest stores only a reference (remote_url, no file), so a relay firehose
 * costs no bytes; the first view through /media_proxy/:id/:style/:token fetches the origin, checks and
 * processes it exactly like an upload (sniffed type, pixel limits, metadata stripped, preview, blurhash),
 * stores it and answers from storage from then on.
 *
 * - One fetch per attachment across all web processes: a Redis lock per id. Whoever loses the race waits
 *   (polling the lock) and then serves the stored copy. We do not redirect waiters to the origin: that would
 *   hand every viewer's address to the remote server and bypass the checks done here (reject_media, type).
 * - A failed fetch is remembered for FAILURE_TTL_SECONDS, so a broken origin is not hit once per viewer.
 * - Domain blocks: a domain (of the author or of the file's host) with reject_media or suspend is never
 *   fetched; its media answers 404, as Mastodon's proxy does.
 * - Every fetch goes through safe-fetch (SSRF guard on every hop, size cap by type, a total deadline).
 * - Views are recorded at most once an hour per attachment (a Redis SET NX gate in front of one UPDATE):
 *   that order is what the storage budget evicts by (cache.ts).
 */
import { timingSafeEqual } from "node:crypto";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { fetchSettings, safeFetch, SafeFetchError } from "../../infra/http/safe-fetch";
import { log } from "../../infra/log";
import { storageFor } from "../../infra/storage/index";
import { findDomainBlockCovering } from "../federation/store";
import { IMAGE_SIZE_LIMIT, VIDEO_SIZE_LIMIT } from "./limits";
import { deleteQuietly, mediaKey, processFile, putAll, type Output } from "./service";
import { sniff, type MediaKind } from "./sniff";
import * as store from "./store";

type Context = Pick<AppContext, "config" | "sql" | "redis">;
export type ProxyStyle = "original" | "small";

const FAILURE_TTL_SECONDS = 600;
/**
 * Downloads (and image processing) at once in this process. A client opening a timeline of 40 never-seen
 * pictures would otherwise hold 40 bodies of up to 16 MB and 40 decodes in memory together.
 */
const FETCH_SLOTS = 6;
const VIEW_GATE_SECONDS = 3600;
const WAIT_STEP_MS = 100;

/** Our URL for a remote attachment's file: what clients get as `url` / `preview_url`. */
export function mediaProxyUrl(baseUrl: string, row: Pick<store.MediaRow, "id" | "proxy_token">, style: ProxyStyle): string {
  return `${baseUrl}/media_proxy/${row.id}/${style}/${row.proxy_token}`;
}

function keys(context: Context, id: string) {
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  return { lock: `${prefix}media:proxy:lock:${id}`, failed: `${prefix}media:proxy:failed:${id}`, seen: `${prefix}media:proxy:seen:${id}` };
}

const MAX_ID = 9223372036854775807n;
const isId = (text: string) => /^\d{1,19}$/.test(text) && BigInt(text) <= MAX_ID;

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Does the author's domain or the file's host refuse media (reject_media) or everything (suspend)? */
export async function mediaRefused(context: Context, accountDomain: string | null, host: string): Promise<boolean> {
  for (const domain of [accountDomain, host]) {
    if (!domain) continue;
    const block = await findDomainBlockCovering(context.sql, domain);
    if (block && (block.reject_media || block.severity === "suspend")) return true;
  }
  return false;
}

/** Images are refused above 16 MB, sound and video above 99 MB (Mastodon's limits); unknown types get the larger cap. */
function sizeLimit(type: store.MediaType): number {
  return type === "image" ? IMAGE_SIZE_LIMIT : VIDEO_SIZE_LIMIT;
}

/** Is what the origin sent the kind of media the post said it was? Video and audio share containers. */
function compatible(type: store.MediaType, kind: MediaKind): boolean {
  if (type === "unknown") return true;
  if (type === "image") return kind === "image";
  return kind === "video" || kind === "audio";
}

const failure = (status: number, message: string) => new ApiError(status, message);

/**
 * Fetch, check, process and store one remote attachment. Throws ApiError: 404 (refused or gone at the
 * origin), 502 (the origin answered with something unusable), 504 (too slow). Origin failures are remembered.
 */
async function fetchAndStore(context: Context, row: store.MediaRow & { account_domain: string | null }): Promise<store.MediaRow> {
  const storage = storageFor(context.config);
  const url = row.remote_url!;
  let output: Output;
  try {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw failure(404, "Record not found");
    }
    if (await mediaRefused(context, row.account_domain, host)) throw failure(404, "Record not found");
    const response = await downloadRemote(context, url, sizeLimit(row.type), "image/*, video/*, audio/*");
    const bytes = response.body;
    const sniffed = sniff(bytes);
    if (!sniffed || !compatible(row.type, sniffed.kind)) throw failure(502, "The remote file is not the media it claims to be");
    if (bytes.byteLength > sizeLimit(sniffed.kind === "image" ? "image" : "video")) throw failure(502, "The remote file is too large");
    try {
      output = await processFile(bytes, sniffed);
    } catch (error) {
      if (error instanceof ApiError) throw failure(502, `The remote file could not be processed: ${error.message}`);
      throw error;
    }
  } catch (error) {
    if (error instanceof ApiError) {
      log.info("remote media not cached", { id: row.id, status: error.status, reason: error.message });
      await context.redis.set(keys(context, row.id).failed, `${error.status} ${error.message}`, "EX", FAILURE_TTL_SECONDS).catch(() => {});
    }
    throw error;
  }
  const files = [{ key: mediaKey(row.id, "original", output.original.ext), data: output.original.data, contentType: output.original.contentType }];
  if (output.small) files.push({ key: mediaKey(row.id, "small", output.small.ext), data: output.small.data, contentType: output.small.contentType });
  await putAll(storage, files);
  let filled: store.MediaRow | undefined;
  try {
    filled = await store.fillCache(context.sql, row.id, {
      // A gifv stays gifv (it is an mp4 either way); an unknown type becomes what the bytes are.
      type: row.type === "gifv" && output.type === "video" ? "gifv" : output.type,
      fileKey: files[0]!.key,
      smallKey: files[1]?.key ?? null,
      contentType: output.original.contentType,
      fileSize: output.original.data.byteLength,
      smallFileSize: output.small?.data.byteLength ?? 0,
      meta: output.meta,
      blurhash: output.blurhash,
    });
  } catch (error) {
    await deleteQuietly(storage, files.map((f) => f.key));
    throw error;
  }
  if (!filled) {
    // Deleted meanwhile, or filled by someone whose lock had expired: keep theirs, drop ours.
    await deleteQuietly(storage, files.map((f) => f.key));
    const current = await store.find(context.sql, row.id);
    if (!current?.file_key) throw ApiError.notFound();
    return current;
  }
  return filled;
}

/**
 * One GET of a remote file through safe-fetch (SSRF guard on every hop, domain refusals on redirects, size
 * cap, total deadline), as ApiError: 404 refused or gone, 502 unusable, 504 too slow. Only a 200 returns.
 */
export async function downloadRemote(context: Context, url: string, maxBytes: number, accept: string) {
  const timeoutMs = context.config.mediaCache.fetchTimeoutMs;
  const blockedHost = async (h: string) => mediaRefused(context, null, h);
  let response;
  try {
    response = await safeFetch(url, fetchSettings(context.config, blockedHost), {
      maxBytes,
      timeoutMs,
      headersTimeoutMs: Math.min(15_000, timeoutMs),
      headers: { accept },
    });
  } catch (error) {
    if (!(error instanceof SafeFetchError)) throw error;
    if (error.reason === "timeout") throw failure(504, "The remote media server did not answer in time");
    if (error.reason === "blocked_domain") throw failure(404, "Record not found");
    throw failure(502, `The remote media could not be fetched (${error.reason})`);
  }
  if (response.status === 404 || response.status === 410) throw failure(404, "Record not found");
  if (response.status !== 200) throw failure(502, `The remote media server answered ${response.status}`);
  return response;
}

let slotsInUse = 0;
const slotQueue: (() => void)[] = [];

export async function withFetchSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (slotsInUse >= FETCH_SLOTS) await new Promise<void>((resolve) => slotQueue.push(resolve));
  else slotsInUse++;
  try {
    return await fn();
  } finally {
    // Hand the slot straight to the next waiter (the count stays), or give it back.
    const next = slotQueue.shift();
    if (next) next();
    else slotsInUse--;
  }
}

async function rememberedFailure(context: Context, id: string): Promise<ApiError | undefined> {
  const text = await context.redis.get(keys(context, id).failed);
  if (!text) return undefined;
  const space = text.indexOf(" ");
  return failure(Number(text.slice(0, space)) || 502, text.slice(space + 1));
}

/**
 * The row with a cached copy, fetching it if needed: once per attachment cluster-wide (Redis lock); others
 * wait for the holder. `force` skips the remembered failure (the operator's refresh).
 */
export async function ensureCached(
  context: Context,
  id: string,
  options: { force?: boolean; initial?: store.MediaRow & { account_domain: string | null } } = {},
): Promise<store.MediaRow & { account_domain: string | null }> {
  let initial = options.initial;
  const storage = storageFor(context.config);
  const k = keys(context, id);
  const lockTtlMs = context.config.mediaCache.fetchTimeoutMs + 60_000;
  const deadline = Date.now() + context.config.mediaCache.fetchTimeoutMs + 30_000;
  for (;;) {
    const row = initial ?? (await store.findRemoteAttached(context.sql, id));
    initial = undefined;
    if (!row) throw ApiError.notFound();
    if (row.file_key) {
      // Local files can be checked for free; one that vanished (a wiped disk) is forgotten and fetched again.
      if (storage.kind === "local" && !(await storage.head(row.file_key))) {
        const evicted = await store.evictCached(context.sql, [id]);
        await deleteQuietly(storage, evicted.flatMap((e) => [e.file_key, e.small_key]));
        continue;
      }
      return row;
    }
    if (!options.force) {
      const failed = await rememberedFailure(context, id);
      if (failed) throw failed;
    }
    const token = crypto.randomUUID();
    if (await context.redis.set(k.lock, token, "PX", lockTtlMs, "NX")) {
      try {
        // Checked again under the lock: the previous holder may have finished between our reads.
        const fresh = await store.findRemoteAttached(context.sql, id);
        if (!fresh) throw ApiError.notFound();
        if (fresh.file_key) return fresh;
        if (options.force) await context.redis.del(k.failed);
        return { ...(await withFetchSlot(() => fetchAndStore(context, fresh))), account_domain: fresh.account_domain };
      } finally {
        await context.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, k.lock, token);
      }
    }
    // Someone else is fetching it: wait for their lock to go, then look again (their copy, or their failure).
    while ((await context.redis.exists(k.lock)) && Date.now() < deadline) await Bun.sleep(WAIT_STEP_MS);
    if (Date.now() >= deadline) throw ApiError.unavailable("The remote media is still being fetched; try again shortly");
  }
}

/** Note a view of a cached copy, writing to Postgres at most once an hour per attachment. */
async function recordView(context: Context, id: string): Promise<void> {
  try {
    if (await context.redis.set(keys(context, id).seen, "1", "EX", VIEW_GATE_SECONDS, "NX")) await store.touchCache(context.sql, id);
  } catch (error) {
    log.warn("media view not recorded", { id, error: (error as Error).message });
  }
}

/**
 * GET /media_proxy/:id/:style/:token: the storage key to serve. 404 for a bad id or token, media that is
 * not remote or not on a live status, a refused domain, or a style the file does not have.
 */
export async function openRemoteMedia(context: Context, id: string, style: ProxyStyle, token: string): Promise<{ key: string }> {
  if (!isId(id) || !/^[0-9a-f]{32}$/.test(token)) throw ApiError.notFound();
  const first = await store.findRemoteAttached(context.sql, id);
  if (!first || !sameToken(token, first.proxy_token)) throw ApiError.notFound();
  const row = await ensureCached(context, id, { initial: first });
  const key = style === "small" ? row.small_key : row.file_key;
  if (!key) throw ApiError.notFound();
  await recordView(context, id);
  return { key };
}

export interface RefreshResult {
  fetched: number;
  failed: number;
}

/**
 * `woolly admin media refresh`: fetch the remote media of a status, an account or a domain now (tootctl
 * media refresh). Batches of 100 by id; only rows without a copy unless `force`, so it is safe to stop
 * and run again. Sequential on purpose: an operator's refresh must not stampede one remote server.
 */
export async function refreshRemoteMedia(
  context: Context,
  filter: store.RefreshFilter,
  onProgress?: (row: store.MediaRow, outcome: "fetched" | "failed", reason?: string) => void,
): Promise<RefreshResult> {
  const storage = storageFor(context.config);
  const result: RefreshResult = { fetched: 0, failed: 0 };
  let afterId = "0";
  for (;;) {
    const batch = await store.remoteForRefresh(context.sql, filter, afterId, 100);
    if (batch.length === 0) return result;
    for (const row of batch) {
      afterId = row.id;
      try {
        if (filter.force && row.file_key) {
          const evicted = await store.evictCached(context.sql, [row.id]);
          await deleteQuietly(storage, evicted.flatMap((e) => [e.file_key, e.small_key]));
        }
        await ensureCached(context, row.id, { force: true });
        result.fetched++;
        onProgress?.(row, "fetched");
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        result.failed++;
        onProgress?.(row, "failed", error.message);
      }
    }
  }
}

/**
 * MEDIA_FETCH_FOLLOWED: fetch now the media of a remote status whose author a local user follows, so their
 * followers' home timelines open on cached files. The same ensureCached as a view (one fetch per attachment
 * cluster-wide, domain refusals, limits, remembered failures); a failure is not retried here, the first
 * view tries again after FAILURE_TTL_SECONDS. Relayed posts by authors nobody here follows are not fetched.
 */
export async function warmFollowedStatus(context: Context, statusId: string): Promise<{ fetched: number; failed: number }> {
  const result = { fetched: 0, failed: 0 };
  for (const id of await store.uncachedOfFollowedStatus(context.sql, statusId)) {
    try {
      await ensureCached(context, id);
      result.fetched++;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result.failed++;
    }
  }
  return result;
}
