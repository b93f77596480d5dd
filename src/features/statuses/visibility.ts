/**
 * Who may see a status: the one rule every door uses (by id, context, timelines, lists of favourites,
 * notifications, search, streaming). Mastodon's StatusPolicy#show?:
 * - deleted: nobody;
 * - the author: always;
 * - public and unlisted: everyone, except people the author blocks;
 * - private (followers-only): the author's followers and the people it mentions;
 * - direct: the people it mentions.
 * Someone who may not see a status gets 404, never 403, so its existence does not leak.
 *
 * SQL that needs the rule names the statuses table `s` and adds `and ${visibleTo(sql, viewerId)}`.
 */
import type { Db } from "../../infra/db";

export type Visibility = "public" | "unlisted" | "private" | "direct";
export const VISIBILITIES: readonly Visibility[] = ["public", "unlisted", "private", "direct"];

export function visibleTo(sql: Db, viewerAccountId: string | null | undefined) {
  if (!viewerAccountId) return sql`(s.deleted_at is null and s.visibility in ('public', 'unlisted'))`;
  return sql`(s.deleted_at is null
    and (
      s.account_id = ${viewerAccountId}
      or s.visibility in ('public', 'unlisted')
      or (s.visibility = 'private' and exists (
            select 1 from follows f where f.account_id = ${viewerAccountId} and f.target_account_id = s.account_id))
      or exists (select 1 from mentions m where m.status_id = s.id and m.account_id = ${viewerAccountId})
    )
    and not exists (select 1 from blocks b where b.account_id = s.account_id and b.target_account_id = ${viewerAccountId}))`;
}

/**
 * What a signed-in viewer never sees in public places (public timelines, search): authors it blocks or mutes
 * (unexpired), authors that block it, and accounts of domains it blocks — Mastodon's excluded accounts. SQL
 * names the statuses table `s` and the author's accounts row `a`.
 */
export function viewerExclusions(sql: Db, viewerId: string | null) {
  if (!viewerId) return sql`true`;
  return sql`(
    not exists (select 1 from blocks b where (b.account_id = ${viewerId} and b.target_account_id = s.account_id)
                                         or (b.account_id = s.account_id and b.target_account_id = ${viewerId}))
    and not exists (select 1 from mutes mu where mu.account_id = ${viewerId} and mu.target_account_id = s.account_id
                                           and (mu.expires_at is null or mu.expires_at > now()))
    and (a.domain is null or not exists (select 1 from account_domain_blocks d where d.account_id = ${viewerId} and d.domain = a.domain))
  )`;
}

/** The ids among `statusIds` the viewer may see (order not kept). */
export async function filterVisible(sql: Db, viewerAccountId: string | null | undefined, statusIds: string[]): Promise<Set<string>> {
  if (statusIds.length === 0) return new Set();
  const rows = await sql<{ id: string }[]>`select s.id from statuses s where s.id = any(${statusIds}::bigint[]) and ${visibleTo(sql, viewerAccountId)}`;
  return new Set(rows.map((r) => r.id));
}
