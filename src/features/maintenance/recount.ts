/**
 * `woolly admin cache recount` (tootctl cache recount): the denormalised counters on accounts and statuses are
 * bumped one by one as things happen (graph/store.ts, statuses/store.ts, interactions/store.ts), so a crash
 * between two statements or a bulk delete can leave them off. This recomputes them from the rows they count.
 *
 * Keyset batches by id, one UPDATE per batch, so no long transaction holds row locks across the whole table
 * and concurrent traffic keeps flowing; only rows whose value differs are written (no needless dead tuples).
 * A like or follow landing during a batch's statement can be missed by it (as with tootctl); running again fixes it.
 */
import type { Sql } from "../../infra/db";

export type RecountTarget = "accounts" | "statuses";

export interface RecountResult {
  scanned: number;
  changed: number;
}

const DEFAULT_BATCH = 1000;

/** Counts as the incremental code keeps them: boosts count as statuses; soft-deleted statuses count for nothing. */
async function recountAccountBatch(sql: Sql, afterId: string, limit: number): Promise<{ lastId: string | null; scanned: number; changed: number }> {
  const rows = await sql<{ last_id: string | null; scanned: number; changed: number }[]>`
    with batch as (
      select id from accounts where id > ${afterId}::bigint order by id limit ${limit}
    ), fresh as (
      select b.id,
        (select count(*) from follows f where f.target_account_id = b.id)::int as followers,
        (select count(*) from follows f where f.account_id = b.id)::int as following,
        (select count(*) from statuses s where s.account_id = b.id and s.deleted_at is null)::int as statuses
      from batch b
    ), updated as (
      update accounts a set followers_count = fresh.followers, following_count = fresh.following, statuses_count = fresh.statuses
      from fresh
      where a.id = fresh.id
        and (a.followers_count, a.following_count, a.statuses_count) is distinct from (fresh.followers, fresh.following, fresh.statuses)
      returning a.id
    )
    select (select max(id)::text from batch) as last_id, (select count(*) from batch)::int as scanned, (select count(*) from updated)::int as changed`;
  const row = rows[0]!;
  return { lastId: row.last_id, scanned: row.scanned, changed: row.changed };
}

async function recountStatusBatch(sql: Sql, afterId: string, limit: number): Promise<{ lastId: string | null; scanned: number; changed: number }> {
  const rows = await sql<{ last_id: string | null; scanned: number; changed: number }[]>`
    with batch as (
      select id from statuses where id > ${afterId}::bigint and deleted_at is null order by id limit ${limit}
    ), fresh as (
      select b.id,
        (select count(*) from statuses r where r.in_reply_to_id = b.id and r.deleted_at is null)::int as replies,
        (select count(*) from statuses r where r.reblog_of_id = b.id and r.deleted_at is null)::int as reblogs,
        (select count(*) from favourites f where f.status_id = b.id)::int as favourites
      from batch b
    ), updated as (
      update statuses s set replies_count = fresh.replies, reblogs_count = fresh.reblogs, favourites_count = fresh.favourites
      from fresh
      where s.id = fresh.id
        and (s.replies_count, s.reblogs_count, s.favourites_count) is distinct from (fresh.replies, fresh.reblogs, fresh.favourites)
      returning s.id
    )
    select (select max(id)::text from batch) as last_id, (select count(*) from batch)::int as scanned, (select count(*) from updated)::int as changed`;
  const row = rows[0]!;
  return { lastId: row.last_id, scanned: row.scanned, changed: row.changed };
}

export async function recount(sql: Sql, target: RecountTarget, options: { batchSize?: number } = {}): Promise<RecountResult> {
  const limit = Math.max(1, Math.min(options.batchSize ?? DEFAULT_BATCH, 10_000));
  const step = target === "accounts" ? recountAccountBatch : recountStatusBatch;
  const result: RecountResult = { scanned: 0, changed: 0 };
  // Ids are positive bigints (woolly_id()), so 0 sorts before every row.
  let afterId = "0";
  for (;;) {
    const batch = await step(sql, afterId, limit);
    result.scanned += batch.scanned;
    result.changed += batch.changed;
    if (batch.lastId === null || batch.scanned < limit) return result;
    afterId = batch.lastId;
  }
}
