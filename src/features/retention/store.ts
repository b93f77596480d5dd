/**
 * Which cached remote statuses content retention may remove: remote, not yet deleted, older than the cutoff,
 * and nothing here depends on them. "Depends" means a local account interacted (favourite, boost, bookmark,
 * reply, pin, poll vote, a mention of a local account, a direct conversation a local account is in), someone
 * reported it (moderation evidence), or it is a reply to / boost of a local post (removing it would change
 * the local post's counters and thread). This is the same selection for the recurring job and the CLI.
 */
import type { Sql } from "../../infra/db";

/** The shared WHERE clause; `s` is the candidate status. */
function removable(sql: Sql, cutoff: Date) {
  return sql`
    s.local = false AND s.deleted_at IS NULL AND s.created_at < ${cutoff}
    AND NOT EXISTS (SELECT 1 FROM favourites f JOIN accounts a ON a.id = f.account_id AND a.domain IS NULL WHERE f.status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM bookmarks b JOIN accounts a ON a.id = b.account_id AND a.domain IS NULL WHERE b.status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM status_pins p JOIN accounts a ON a.id = p.account_id AND a.domain IS NULL WHERE p.status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM mentions m JOIN accounts a ON a.id = m.account_id AND a.domain IS NULL WHERE m.status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM statuses r WHERE r.reblog_of_id = s.id AND r.local AND r.deleted_at IS NULL)
    AND NOT EXISTS (SELECT 1 FROM statuses r WHERE r.in_reply_to_id = s.id AND r.local AND r.deleted_at IS NULL)
    AND NOT EXISTS (
      SELECT 1 FROM polls pl JOIN poll_votes v ON v.poll_id = pl.id JOIN accounts a ON a.id = v.account_id AND a.domain IS NULL
      WHERE pl.status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM reports rp WHERE s.id = ANY (rp.status_ids))
    AND NOT EXISTS (
      SELECT 1 FROM account_conversations ac JOIN accounts a ON a.id = ac.account_id AND a.domain IS NULL
      WHERE ac.conversation_id = s.conversation_id OR ac.last_status_id = s.id)
    AND NOT EXISTS (SELECT 1 FROM statuses parent WHERE parent.id = s.in_reply_to_id AND parent.local)
    AND NOT EXISTS (SELECT 1 FROM statuses parent WHERE parent.id = s.reblog_of_id AND parent.local)`;
}

/**
 * The next batch of removable ids after `afterId`, walking the primary key so each batch continues where the
 * last one stopped (kept rows are not scanned again in the same run).
 */
export async function nextBatch(sql: Sql, cutoff: Date, afterId: string, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT s.id::text AS id FROM statuses s
    WHERE s.id > ${afterId} AND ${removable(sql, cutoff)}
    ORDER BY s.id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** How many would go, and the first few ids (for --dry-run). */
export async function preview(sql: Sql, cutoff: Date, sampleSize: number): Promise<{ count: number; sample: string[] }> {
  const [counted] = await sql<{ count: string }[]>`SELECT count(*)::text AS count FROM statuses s WHERE ${removable(sql, cutoff)}`;
  const sample = await nextBatch(sql, cutoff, "0", sampleSize);
  return { count: Number(counted!.count), sample };
}
