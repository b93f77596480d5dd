/**
 * The streaming role's SQL, all read-only and per account or per sweep — never per event per connection:
 * the relations that filter public streams, and which connected tokens are still good.
 */
import type { Db } from "../infra/db";

export interface RelationsRow {
  blocking: string[];
  blocked_by: string[];
  muting: string[];
  domains: string[];
}

/** Everything the per-connection filter needs about one reader, in one round trip. */
export async function loadRelations(db: Db, accountId: string): Promise<RelationsRow> {
  const [row] = await db<RelationsRow[]>`
    select
      coalesce((select json_agg(target_account_id::text) from blocks where account_id = ${accountId}), '[]'::json) as blocking,
      coalesce((select json_agg(account_id::text) from blocks where target_account_id = ${accountId}), '[]'::json) as blocked_by,
      coalesce((select json_agg(target_account_id::text) from mutes where account_id = ${accountId}
                and (expires_at is null or expires_at > now())), '[]'::json) as muting,
      coalesce((select json_agg(lower(domain)) from account_domain_blocks where account_id = ${accountId}), '[]'::json) as domains`;
  return row!;
}

/**
 * Of the given token ids, those still good for streaming: not revoked, the user not disabled and the
 * account not suspended (Mastodon's streaming token lookup).
 */
export async function liveTokenIds(db: Db, tokenIds: string[]): Promise<Set<string>> {
  if (tokenIds.length === 0) return new Set();
  const rows = await db<{ id: string }[]>`
    select t.id::text as id
    from oauth_access_tokens t
    join users u on u.id = t.user_id
    join accounts a on a.id = u.account_id
    where t.id in ${db(tokenIds)} and t.revoked_at is null and not u.disabled and a.suspended_at is null`;
  return new Set(rows.map((r) => r.id));
}

/** The accounts an owner follows: a `list` stream with replies_policy=followed keeps replies to them. */
export async function followedIds(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select target_account_id::text as id from follows where account_id = ${accountId}`;
  return rows.map((r) => r.id);
}
