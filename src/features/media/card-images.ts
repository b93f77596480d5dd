/**
 * Preview card images through the media pipeline, lazily. A card keeps its image as the origin's URL (the
 * cards feature never downloads it); clients get /media_proxy/cards/:id/:token, and the first view fetches
 * the image with the same guards as remote attachments (safe-fetch, domain refusals, 16 MB cap, sniffed type,
 * pixel limit, metadata stripped), resizes it to a card-sized preview (640×360-class, Mastodon's card size)
 * with a blurhash, and stores it. One fetch per card cluster-wide (Redis lock), failures remembered for a
 * while, views recorded at most once an hour: the copies count in the remote cache budget (cache.ts).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { log } from "../../infra/log";
import { storageFor } from "../../infra/storage/index";
import * as cardImages from "./card-image-store";
import { processThumbnail } from "./images";
import { IMAGE_SIZE_LIMIT } from "./limits";
import { downloadRemote, mediaRefused, withFetchSlot } from "./remote";
import { deleteQuietly, putAll } from "./service";
import { sniff } from "./sniff";

type Context = Pick<AppContext, "config" | "sql" | "redis">;

const FAILURE_TTL_SECONDS = 600;
const VIEW_GATE_SECONDS = 3600;
const WAIT_STEP_MS = 100;

/** What clients get as card.image: our proxy when the card has an image, else null. */
export function cardImageUrl(baseUrl: string, card: { id: string; image_url: string | null; image_token?: string | null }): string | null {
  if (!card.image_url) return null;
  // A row read without the token column (an older query) keeps the origin's address rather than a broken link.
  if (!card.image_token) return card.image_url;
  return `${baseUrl}/media_proxy/cards/${card.id}/${card.image_token}`;
}

function keys(context: Context, id: string) {
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  return { lock: `${prefix}media:card:lock:${id}`, failed: `${prefix}media:card:failed:${id}`, seen: `${prefix}media:card:seen:${id}` };
}

function cardImageKey(id: string, ext: string): string {
  const padded = id.padStart(Math.ceil(id.length / 3) * 3, "0");
  return `cache/preview_cards/images/${padded.match(/\d{3}/g)!.join("/")}/${randomBytes(16).toString("hex")}.${ext}`;
}

const usable = (row: cardImages.CardImageRow) => row.image_file_key !== null && row.image_source_url === row.image_url;

async function fetchAndStore(context: Context, row: cardImages.CardImageRow & { image_url: string }): Promise<string> {
  const url = row.image_url;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw ApiError.notFound();
  }
  if (await mediaRefused(context, null, host)) throw ApiError.notFound();
  const response = await downloadRemote(context, url, IMAGE_SIZE_LIMIT, "image/*");
  const sniffed = sniff(response.body);
  if (!sniffed || sniffed.kind !== "image") throw new ApiError(502, "The remote file is not an image");
  let preview;
  try {
    preview = await processThumbnail(response.body, sniffed);
  } catch (error) {
    if (error instanceof ApiError) throw new ApiError(502, `The remote image could not be processed: ${error.message}`);
    throw error;
  }
  const storage = storageFor(context.config);
  const key = cardImageKey(row.id, preview.small.ext);
  await putAll(storage, [{ key, data: preview.small.data, contentType: preview.small.contentType }]);
  let filled;
  try {
    filled = await cardImages.fill(context.sql, row.id, url, { key, contentType: preview.small.contentType, size: preview.small.data.byteLength, blurhash: preview.blurhash });
  } catch (error) {
    await deleteQuietly(storage, [key]);
    throw error;
  }
  if (!filled) {
    await deleteQuietly(storage, [key]);
    throw ApiError.notFound();
  }
  if (filled.replaced && filled.replaced !== key) await deleteQuietly(storage, [filled.replaced]);
  return key;
}

/** The storage key of a card's cached image, fetching it first if needed (once cluster-wide). */
async function ensureCardImage(context: Context, id: string, first: cardImages.CardImageRow): Promise<string> {
  const storage = storageFor(context.config);
  const k = keys(context, id);
  const deadline = Date.now() + context.config.mediaCache.fetchTimeoutMs + 30_000;
  let row: cardImages.CardImageRow | undefined = first;
  for (;;) {
    if (!row?.image_url) throw ApiError.notFound();
    if (usable(row)) {
      if (storage.kind !== "local" || (await storage.head(row.image_file_key!))) return row.image_file_key!;
      // A vanished local file (a wiped disk) is forgotten and fetched again.
      await cardImages.evict(context.sql, [id]);
    }
    const failed = await context.redis.get(k.failed);
    if (failed) {
      const space = failed.indexOf(" ");
      throw new ApiError(Number(failed.slice(0, space)) || 502, failed.slice(space + 1));
    }
    const token = crypto.randomUUID();
    if (await context.redis.set(k.lock, token, "PX", context.config.mediaCache.fetchTimeoutMs + 60_000, "NX")) {
      try {
        const fresh = await cardImages.find(context.sql, id);
        if (!fresh?.image_url) throw ApiError.notFound();
        if (usable(fresh) && (storage.kind !== "local" || (await storage.head(fresh.image_file_key!)))) return fresh.image_file_key!;
        const image = fresh as cardImages.CardImageRow & { image_url: string };
        return await withFetchSlot(() => fetchAndStore(context, image));
      } catch (error) {
        if (error instanceof ApiError) {
          log.info("card image not cached", { id, status: error.status, reason: error.message });
          await context.redis.set(k.failed, `${error.status} ${error.message}`, "EX", FAILURE_TTL_SECONDS).catch(() => {});
        }
        throw error;
      } finally {
        await context.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, k.lock, token);
      }
    }
    while ((await context.redis.exists(k.lock)) && Date.now() < deadline) await Bun.sleep(WAIT_STEP_MS);
    if (Date.now() >= deadline) throw ApiError.unavailable("The remote media is still being fetched; try again shortly");
    row = await cardImages.find(context.sql, id);
  }
}

const MAX_ID = 9223372036854775807n;

/** GET /media_proxy/cards/:id/:token: the storage key to serve; 404 for a bad id or token or no image. */
export async function openCardImage(context: Context, id: string, token: string): Promise<{ key: string }> {
  if (!/^\d{1,19}$/.test(id) || BigInt(id) > MAX_ID || !/^[0-9a-f]{32}$/.test(token)) throw ApiError.notFound();
  const row = await cardImages.find(context.sql, id);
  if (!row || !timingSafeEqual(Buffer.from(token), Buffer.from(row.image_token.padEnd(32).slice(0, 32)))) throw ApiError.notFound();
  const key = await ensureCardImage(context, id, row);
  try {
    if (await context.redis.set(keys(context, id).seen, "1", "EX", VIEW_GATE_SECONDS, "NX")) await cardImages.touch(context.sql, id);
  } catch (error) {
    log.warn("card image view not recorded", { id, error: (error as Error).message });
  }
  return { key };
}
