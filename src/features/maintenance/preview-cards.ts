/**
 * `woolly admin preview_cards remove` (tootctl preview_cards remove): preview cards pile up, one per link ever
 * posted or federated to us. A card neither refreshed nor viewed nor attached to a new post within the window
 * goes, with its cached image; the posts that showed it lose the card (the link table cascades) and a later
 * edit or refetch can make it again.
 *
 * Batches each in their own short transaction; files are deleted only after the rows are gone, so a crash
 * leaves at worst an orphan file, never a row pointing at a missing one.
 */
import type { Config } from "../../infra/config";
import type { Sql } from "../../infra/db";
import { storageFor } from "../../infra/storage/index";
import { deleteQuietly } from "../media/service";

export interface CardRemoval {
  cards: number;
  /** Posts that showed one of the removed cards. */
  statuses: number;
  /** Cached image files removed (or that would be). */
  images: number;
}

const BATCH = 500;

/** The staleness test, shared by the dry run and the real one so they always agree. */
function staleCondition(sql: Sql, cutoff: Date) {
  return sql`c.updated_at < ${cutoff}
    and (c.image_accessed_at is null or c.image_accessed_at < ${cutoff})
    and not exists (select 1 from preview_cards_statuses l where l.preview_card_id = c.id and l.created_at >= ${cutoff})`;
}

export async function removeStaleCards(context: { sql: Sql; config: Config }, options: { days: number; dryRun: boolean }): Promise<CardRemoval> {
  const { sql } = context;
  const cutoff = new Date(Date.now() - options.days * 86_400_000);
  if (options.dryRun) {
    const [row] = await sql<CardRemoval[]>`
      select count(*)::int as cards,
             coalesce(sum((select count(*) from preview_cards_statuses l where l.preview_card_id = c.id)), 0)::int as statuses,
             count(c.image_file_key)::int as images
      from preview_cards c where ${staleCondition(sql, cutoff)}`;
    return row!;
  }
  const storage = storageFor(context.config);
  const total: CardRemoval = { cards: 0, statuses: 0, images: 0 };
  for (;;) {
    const removed = await sql.begin(async (tx) => {
      // skip locked: a card being refreshed or linked right now is simply left for the next run.
      const rows = await tx<{ id: string; image_file_key: string | null; statuses: number }[]>`
        select c.id, c.image_file_key,
               (select count(*) from preview_cards_statuses l where l.preview_card_id = c.id)::int as statuses
        from preview_cards c where ${staleCondition(tx as unknown as Sql, cutoff)}
        order by c.id limit ${BATCH} for update of c skip locked`;
      if (rows.length) await tx`delete from preview_cards where id = any(${rows.map((r) => r.id)}::bigint[])`;
      return rows;
    });
    if (removed.length === 0) return total;
    const keys = removed.map((r) => r.image_file_key);
    await deleteQuietly(storage, keys);
    total.cards += removed.length;
    total.statuses += removed.reduce((sum, r) => sum + r.statuses, 0);
    total.images += keys.filter((k) => k !== null).length;
    if (removed.length < BATCH) return total;
  }
}
