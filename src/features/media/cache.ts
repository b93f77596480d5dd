/**
 * Keeping cached remote media bounded: copies not viewed for MEDIA_CACHE_RETENTION_PERIOD days go, then, while
 * the cached total is over MEDIA_CACHE_MAX_SIZE, the least recently viewed go. Evicting puts a row back to
 * "not cached" (file_key NULL, sizes 0) and then deletes its files, so a row never points at a missing file
 * for long and the next view fetches it again. Only rows with remote_url are ever considered: local uploads
 * are not a cache.
 *
 * Preview card images fetched through the proxy (card-images.ts) are remote cache too: they count in the
 * budget and share its LRU order and the retention period.
 *
 * Batches of BATCH rows, each its own statement: safe to interrupt, and a run never holds many locks.
 */
import type { AppContext } from "../../infra/context";
import { storageFor } from "../../infra/storage/index";
import { getSetting } from "../settings/service";
import { deleteQuietly } from "./service";
import * as cardImages from "./card-image-store";
import * as store from "./store";

type Context = Pick<AppContext, "config" | "sql">;

const BATCH = 500;
const DAY_MS = 24 * 3600 * 1000;

export interface EvictionTally {
  count: number;
  bytes: number;
}

export interface EvictionReport {
  /** Not viewed for longer than the retention period. */
  byAge: EvictionTally;
  /** Least recently viewed, to get under the budget. */
  byBudget: EvictionTally;
  /** Cached remote bytes after the run (or, for a dry run, after it would have run). */
  remainingBytes: number;
  dryRun: boolean;
}

export interface EvictionOptions {
  /** Days without a view; 0 or undefined = no age limit. */
  retentionDays?: number;
  /** Byte budget; 0 or undefined = none. */
  maxBytes?: number;
  dryRun?: boolean;
}

/**
 * The retention period in force: the operator's setting `media_cache_retention_period` (Mastodon's admin
 * setting, `woolly admin settings set`) when set, else MEDIA_CACHE_RETENTION_PERIOD; 0 = no age limit.
 */
export async function retentionDays(context: Context): Promise<number> {
  return (await getSetting(context.sql, "media_cache_retention_period")) ?? context.config.mediaCache.retentionDays;
}

async function evictCards(context: Context, ids: string[], tally: EvictionTally): Promise<number> {
  const evicted = await cardImages.evict(context.sql, ids);
  await deleteQuietly(storageFor(context.config), evicted.map((e) => e.key));
  tally.count += evicted.length;
  tally.bytes += evicted.reduce((sum, e) => sum + Number(e.bytes), 0);
  return evicted.length;
}

async function evict(context: Context, ids: string[], tally: EvictionTally): Promise<number> {
  const evicted = await store.evictCached(context.sql, ids);
  await deleteQuietly(storageFor(context.config), evicted.flatMap((e) => [e.file_key, e.small_key]));
  const bytes = evicted.reduce((sum, e) => sum + Number(e.bytes), 0);
  tally.count += evicted.length;
  tally.bytes += bytes;
  return evicted.length;
}

export async function evictRemoteCache(context: Context, options: EvictionOptions): Promise<EvictionReport> {
  const dryRun = options.dryRun ?? false;
  const report: EvictionReport = { byAge: { count: 0, bytes: 0 }, byBudget: { count: 0, bytes: 0 }, remainingBytes: 0, dryRun };
  const totals = await store.cachedRemoteTotals(context.sql);
  let total = totals.bytes + (await cardImages.totals(context.sql)).bytes;

  const skip: string[] = [];
  const skipCards: string[] = [];
  if (options.retentionDays && options.retentionDays > 0) {
    const before = new Date(Date.now() - options.retentionDays * DAY_MS);
    if (dryRun) {
      report.byAge = await store.staleTotals(context.sql, before);
      // The budget pass below must not count these twice (a dry run looks at the first 10 000 only).
      skip.push(...(await store.staleCached(context.sql, before, 10_000)).map((c) => c.id));
      const staleCards = await cardImages.stale(context.sql, before, 10_000);
      skipCards.push(...staleCards.map((c) => c.id));
      report.byAge.count += staleCards.length;
      report.byAge.bytes += staleCards.reduce((sum, c) => sum + Number(c.bytes), 0);
    } else {
      for (;;) {
        const batch = await store.staleCached(context.sql, before, BATCH);
        if (batch.length === 0) break;
        // Rows someone else evicted meanwhile come back as nothing; stop rather than spin on locked rows.
        if ((await evict(context, batch.map((c) => c.id), report.byAge)) === 0) break;
      }
      for (;;) {
        const batch = await cardImages.stale(context.sql, before, BATCH);
        if (batch.length === 0 || (await evictCards(context, batch.map((c) => c.id), report.byAge)) === 0) break;
      }
    }
    total -= report.byAge.bytes;
  }

  if (options.maxBytes && options.maxBytes > 0) {
    while (total > options.maxBytes) {
      const excess = total - options.maxBytes;
      const batch = await cardImages.leastRecentlyViewedMixed(context.sql, excess, BATCH, skip, skipCards);
      if (batch.length === 0) break;
      const mediaIds = batch.filter((c) => c.kind === "media").map((c) => c.id);
      const cardIds = batch.filter((c) => c.kind === "card").map((c) => c.id);
      if (dryRun) {
        skip.push(...mediaIds);
        skipCards.push(...cardIds);
        const bytes = batch.reduce((sum, c) => sum + Number(c.bytes), 0);
        report.byBudget.count += batch.length;
        report.byBudget.bytes += bytes;
        total -= bytes;
      } else {
        const before = report.byBudget.bytes;
        const evicted = (await evict(context, mediaIds, report.byBudget)) + (await evictCards(context, cardIds, report.byBudget));
        if (evicted === 0) break;
        total -= report.byBudget.bytes - before;
      }
    }
  }
  report.remainingBytes = Math.max(0, total);
  return report;
}
