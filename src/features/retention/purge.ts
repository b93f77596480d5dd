/**
 * Purging soft-deleted statuses. A deleted status stays as a row with deleted_at set (a tombstone: a late
 * Create or a refetch of the same uri cannot bring it back, and delete-and-redraft can read it), but nothing
 * shows it. After PURGE_AFTER_DAYS the row goes for good: its media files and media rows first, then the
 * status, whose dependants (favourites, mentions, edits, boosts, polls, search rows…) go with it through the
 * foreign keys' ON DELETE CASCADE.
 *
 * Kept even when old: statuses a report names (moderation evidence, as Mastodon keeps reported posts), one
 * still the last status of a direct conversation (its FK would cascade the conversation away), and one with
 * live replies (the replies' in_reply_to_id would be nulled, turning them into top-level posts).
 *
 * Batches of short transactions with a pause between, and a time budget per run, as content retention.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { storageFor } from "../../infra/storage/index";
import { deleteQuietly } from "../media/service";
import { cutoffFor } from "./service";

/** Mastodon keeps no tombstone rows at all; a month covers late deliveries and retried fetches. */
export const PURGE_AFTER_DAYS = 30;

function purgeable(sql: Db, cutoff: Date) {
  return sql`
    s.deleted_at IS NOT NULL AND s.deleted_at < ${cutoff}
    AND NOT EXISTS (SELECT 1 FROM reports rp WHERE s.id = ANY (rp.status_ids))
    AND NOT EXISTS (SELECT 1 FROM account_conversations ac WHERE ac.last_status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM statuses r WHERE r.in_reply_to_id = s.id AND r.deleted_at IS NULL)`;
}

export interface PurgeReport {
  purged: number;
  batches: number;
  incomplete: boolean;
}

export async function countPurgeable(context: Pick<AppContext, "sql">, days: number): Promise<number> {
  const [row] = await context.sql<{ count: string }[]>`SELECT count(*)::text AS count FROM statuses s WHERE ${purgeable(context.sql, cutoffFor(days))}`;
  return Number(row!.count);
}

export async function purgeDeletedStatuses(
  context: Pick<AppContext, "sql" | "config">,
  options: { days: number; batchSize?: number; pauseMs?: number; budgetMs?: number },
): Promise<PurgeReport> {
  const cutoff = cutoffFor(options.days);
  const batchSize = options.batchSize ?? 500;
  const deadline = options.budgetMs ? Date.now() + options.budgetMs : Infinity;
  const storage = storageFor(context.config);
  const report: PurgeReport = { purged: 0, batches: 0, incomplete: false };
  let cursor = "0";
  for (;;) {
    const { ids, keys } = await context.sql.begin(async (tx) => {
      // SKIP LOCKED: a row someone is touching right now waits for the next run instead of blocking this one.
      const rows = await tx<{ id: string }[]>`
        SELECT s.id::text AS id FROM statuses s WHERE s.id > ${cursor} AND ${purgeable(tx, cutoff)}
        ORDER BY s.id LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
      const ids = rows.map((r) => r.id);
      if (ids.length === 0) return { ids, keys: [] as (string | null)[] };
      const media = await tx<{ file_key: string | null; small_key: string | null; upload_key: string | null }[]>`
        DELETE FROM media_attachments WHERE status_id = ANY (${ids}::bigint[]) RETURNING file_key, small_key, upload_key`;
      await tx`DELETE FROM statuses WHERE id = ANY (${ids}::bigint[])`;
      return { ids, keys: media.flatMap((m) => [m.file_key, m.small_key, m.upload_key]) };
    });
    if (ids.length === 0) break;
    // Files after the commit: a failed delete leaves an orphan file, never a row pointing at nothing.
    await deleteQuietly(storage, keys);
    report.batches++;
    report.purged += ids.length;
    cursor = ids[ids.length - 1]!;
    if (ids.length < batchSize) break;
    if (Date.now() >= deadline) {
      report.incomplete = true;
      break;
    }
    if ((options.pauseMs ?? 1000) > 0) await Bun.sleep(options.pauseMs ?? 1000);
  }
  return report;
}
