/**
 * SQL for follow suggestions. Reads the graph and accounts (owned elsewhere); writes only
 * suggestion_dismissals (migrations/0015_search.sql).
 */
import type { Db } from "../../infra/db";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fragment = any;

/**
 * Accounts that may be suggested to `viewerId`: discoverable, visible (not suspended, confirmed and approved
 * when local, not memorial), not the viewer, not already followed or requested, not blocked either way, not
 * muted, not on a domain the viewer blocks, not dismissed before.
 */
function eligible(db: Db, viewerId: string): Fragment {
  return db`(
    a.id <> ${viewerId}
    and a.discoverable is true and a.suspended_at is null and not a.memorial
    and (u.id is null or (u.confirmed_at is not null and u.approved and not u.disabled))
    and a.id not in (select target_account_id from follows where account_id = ${viewerId})
    and a.id not in (select target_account_id from follow_requests where account_id = ${viewerId})
    and a.id not in (select target_account_id from blocks where account_id = ${viewerId})
    and a.id not in (select account_id from blocks where target_account_id = ${viewerId})
    and a.id not in (select target_account_id from mutes where account_id = ${viewerId})
    and a.id not in (select target_account_id from suggestion_dismissals where account_id = ${viewerId})
    and (a.domain is null or a.domain not in (select domain from account_domain_blocks where account_id = ${viewerId}))
  )`;
}

/** How many recent follows of the viewer, and of each of them, the friends-of-friends walk reads: a bound on its cost. */
const WALK = 200;

/** Accounts followed by the accounts the viewer follows, by how many of them follow it, then by followers. */
export async function friendsOfFriends(db: Db, viewerId: string, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    with friends as (
      select target_account_id as id from follows where account_id = ${viewerId} order by id desc limit ${WALK}
    ),
    candidates as (
      select f2.target_account_id as id, count(*) as n
      from friends fr
      cross join lateral (select target_account_id from follows f where f.account_id = fr.id order by f.id desc limit ${WALK}) f2
      group by 1
    )
    select a.id from candidates c join accounts a on a.id = c.id left join users u on u.account_id = a.id
    where ${eligible(db, viewerId)}
    order by c.n desc, a.followers_count desc, a.id
    limit ${limit}`;
  return rows.map((r) => r.id);
}

/** The most followed local accounts. */
export async function popularLocal(db: Db, viewerId: string, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select a.id from accounts a left join users u on u.account_id = a.id
    where a.domain is null and ${eligible(db, viewerId)}
    order by a.followers_count desc, a.last_status_at desc nulls last, a.id
    limit ${limit}`;
  return rows.map((r) => r.id);
}

export async function dismiss(db: Db, viewerId: string, targetId: string): Promise<void> {
  await db`insert into suggestion_dismissals (account_id, target_account_id) values (${viewerId}, ${targetId}) on conflict do nothing`;
}
