/**
 * Content cache retention (Mastodon's `content_cache_retention_period`): remote statuses nobody here
 * interacted with are removed once older than N days. Removal goes through the Delete handler's
 * removeStatus, so counters, home feeds, notifications and streams follow exactly as for a remote Delete.
 * Work is done in batches with a pause between, and a run stops after a time budget; the next run carries on.
 */
import { removeStatus } from "../federation/handlers/delete";
import { getSetting } from "../settings/service";
import type { AppContext } from "../../infra/context";
import * as store from "./store";

const DAY_MS = 24 * 3600 * 1000;

export interface RemoveOptions {
  days: number;
  batchSize?: number;
  /** Pause between batches so the database and the event queues keep serving other work. */
  pauseMs?: number;
  /** Stop after this long; whatever is left waits for the next run. 0 = no limit (the CLI). */
  budgetMs?: number;
}

export interface RemoveReport {
  removed: number;
  batches: number;
  /** True when the time budget ran out before the selection was exhausted. */
  incomplete: boolean;
}

export function cutoffFor(days: number, now = Date.now()): Date {
  return new Date(now - days * DAY_MS);
}

/** The retention period in force, or null (keep forever). */
export async function contentRetentionDays(context: Pick<AppContext, "sql">): Promise<number | null> {
  return getSetting(context.sql, "content_cache_retention_period");
}

export async function previewRemoval(context: Pick<AppContext, "sql">, days: number, sampleSize = 10) {
  return store.preview(context.sql, cutoffFor(days), sampleSize);
}

export async function removeOldRemoteStatuses(context: AppContext, options: RemoveOptions): Promise<RemoveReport> {
  const cutoff = cutoffFor(options.days);
  const batchSize = options.batchSize ?? 500;
  const pauseMs = options.pauseMs ?? 1000;
  const deadline = options.budgetMs ? Date.now() + options.budgetMs : Infinity;
  const report: RemoveReport = { removed: 0, batches: 0, incomplete: false };
  let cursor = "0";
  for (;;) {
    const ids = await store.nextBatch(context.sql, cutoff, cursor, batchSize);
    if (ids.length === 0) break;
    report.batches++;
    // One at a time: each removal is its own short transaction, so no long lock is held on statuses.
    for (const id of ids) if (await removeStatus(context, id)) report.removed++;
    cursor = ids[ids.length - 1]!;
    if (ids.length < batchSize) break;
    if (Date.now() >= deadline) {
      report.incomplete = true;
      break;
    }
    if (pauseMs > 0) await Bun.sleep(pauseMs);
  }
  return report;
}
