/** SQL for the profile directory. Reads accounts, users and the graph (owned elsewhere). */
import type { Db } from "../../infra/db";

export interface DirectoryQuery {
  viewerId: string | null;
  order: "active" | "new";
  local: boolean;
  limit: number;
  offset: number;
}

/**
 * Discoverable accounts (Mastodon's Account.discoverable: opted in, not suspended, silenced or memorial,
 * local ones confirmed and approved), minus those the viewer blocks, mutes or is blocked by. "active" orders
 * by the latest post, "new" by creation.
 */
export async function directoryIds(db: Db, q: DirectoryQuery): Promise<string[]> {
  const viewer = q.viewerId;
  const rows = await db<{ id: string }[]>`
    select a.id from accounts a left join users u on u.account_id = a.id
    where a.discoverable is true and a.suspended_at is null and a.silenced_at is null and not a.memorial
      and (u.id is null or (u.confirmed_at is not null and u.approved and not u.disabled))
      ${q.local ? db`and a.domain is null` : db``}
      ${
        viewer
          ? db`and a.id not in (select target_account_id from blocks where account_id = ${viewer})
               and a.id not in (select account_id from blocks where target_account_id = ${viewer})
               and a.id not in (select target_account_id from mutes where account_id = ${viewer})`
          : db``
      }
    order by ${q.order === "new" ? db`a.created_at desc, a.id desc` : db`a.last_status_at desc nulls last, a.id desc`}
    limit ${q.limit} offset ${q.offset}`;
  return rows.map((r) => r.id);
}
