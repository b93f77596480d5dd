/**
 * SQL for lists and their members. Membership hangs off the owner's follow of the member (follow_id, on
 * delete cascade), so it is inserted from the follows row itself: no follow, no row.
 * The list timeline reads statuses (with the one visibility rule) from Postgres; see service.ts.
 */
import type { Db } from "../../infra/db";
import { visibleTo } from "../statuses/visibility";

// A piece of SQL built with the tagged template (what api/pagination.ts's pageWhere returns).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fragment = any;

export type RepliesPolicy = "followed" | "list" | "none";

export interface ListRow {
  id: string;
  account_id: string;
  title: string;
  replies_policy: RepliesPolicy;
  exclusive: boolean;
}

export interface Page {
  where: Fragment;
  order: Fragment;
  limit: number;
}

const COLUMNS = (db: Db) => db`id, account_id, title, replies_policy, exclusive`;

export async function listsOf(db: Db, ownerId: string): Promise<ListRow[]> {
  return db<ListRow[]>`select ${COLUMNS(db)} from lists where account_id = ${ownerId} order by id`;
}

export async function countLists(db: Db, ownerId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from lists where account_id = ${ownerId}`;
  return row!.n;
}

export async function findList(db: Db, ownerId: string, id: string): Promise<ListRow | undefined> {
  const [row] = await db<ListRow[]>`select ${COLUMNS(db)} from lists where id = ${id} and account_id = ${ownerId}`;
  return row;
}

export async function insertList(db: Db, ownerId: string, input: { title: string; replies_policy: RepliesPolicy; exclusive: boolean }): Promise<ListRow> {
  const [row] = await db<ListRow[]>`
    insert into lists (account_id, title, replies_policy, exclusive)
    values (${ownerId}, ${input.title}, ${input.replies_policy}, ${input.exclusive})
    returning ${COLUMNS(db)}`;
  return row!;
}

export async function updateList(db: Db, ownerId: string, id: string, changes: { title?: string; replies_policy?: RepliesPolicy; exclusive?: boolean }): Promise<ListRow | undefined> {
  const [row] = await db<ListRow[]>`
    update lists set
      title = coalesce(${changes.title ?? null}::text, title),
      replies_policy = coalesce(${changes.replies_policy ?? null}::text, replies_policy),
      exclusive = coalesce(${changes.exclusive ?? null}::boolean, exclusive),
      updated_at = now()
    where id = ${id} and account_id = ${ownerId}
    returning ${COLUMNS(db)}`;
  return row;
}

export async function deleteList(db: Db, ownerId: string, id: string): Promise<boolean> {
  const rows = await db`delete from lists where id = ${id} and account_id = ${ownerId} returning id`;
  return rows.length > 0;
}

/** Serialise membership changes of one list (taken inside the adding transaction). */
export async function lockList(db: Db, id: string): Promise<void> {
  await db`select id from lists where id = ${id} for update`;
}

export async function isMember(db: Db, listId: string, accountId: string): Promise<boolean> {
  const rows = await db`select 1 from list_accounts where list_id = ${listId} and account_id = ${accountId}`;
  return rows.length > 0;
}

/** Add `accountId` through the owner's follow of it; false when the owner does not follow it. */
export async function insertMember(db: Db, list: ListRow, accountId: string): Promise<boolean> {
  const rows = await db`
    insert into list_accounts (list_id, account_id, follow_id)
    select ${list.id}, f.target_account_id, f.id from follows f
    where f.account_id = ${list.account_id} and f.target_account_id = ${accountId}
    on conflict (list_id, account_id) do nothing
    returning id`;
  return rows.length > 0;
}

export async function deleteMembers(db: Db, listId: string, accountIds: string[]): Promise<void> {
  await db`delete from list_accounts where list_id = ${listId} and account_id = any(${accountIds}::bigint[])`;
}

/** Members as (cursor = list_accounts.id, account id) rows; the paged column is `x.id`. No page: all of them. */
export async function memberRows(db: Db, listId: string, page: Page | undefined): Promise<{ cursor: string; id: string }[]> {
  return db<{ cursor: string; id: string }[]>`
    select x.id as cursor, x.account_id as id from list_accounts x
    join accounts a on a.id = x.account_id and a.suspended_at is null
    where x.list_id = ${listId} and ${page ? page.where : db`true`}
    order by ${page ? page.order : db`x.id desc`} ${page ? db`limit ${page.limit}` : db``}`;
}

/** The owner's lists that hold `accountId`. */
export async function listsHolding(db: Db, ownerId: string, accountId: string): Promise<ListRow[]> {
  return db<ListRow[]>`
    select l.id, l.account_id, l.title, l.replies_policy, l.exclusive from lists l
    join list_accounts la on la.list_id = l.id and la.account_id = ${accountId}
    where l.account_id = ${ownerId} order by l.id`;
}

/**
 * A page of the list's timeline, as status ids (in the page's order): posts and boosts by members, not
 * direct, visible to the owner, not from or boosting someone the owner blocks, is blocked by or mutes; a
 * reply to someone else only as `replies_policy` allows (Mastodon's FeedManager#filter_from_list?): to the
 * owner always; `followed` — to an account the owner follows; `list` — to a member; `none` — no other.
 */
export async function timelineIds(db: Db, list: ListRow, page: Page): Promise<string[]> {
  const owner = list.account_id;
  const replies =
    list.replies_policy === "followed"
      ? db`exists (select 1 from follows fr where fr.account_id = ${owner} and fr.target_account_id = s.in_reply_to_account_id)`
      : list.replies_policy === "list"
        ? db`exists (select 1 from list_accounts lr where lr.list_id = ${list.id} and lr.account_id = s.in_reply_to_account_id)`
        : db`false`;
  const rows = await db<{ id: string }[]>`
    select s.id from statuses s
    join list_accounts la on la.account_id = s.account_id and la.list_id = ${list.id}
    left join statuses o on o.id = s.reblog_of_id
    where s.visibility in ('public', 'unlisted', 'private') and ${visibleTo(db, owner)}
      and not exists (select 1 from blocks b where b.account_id = ${owner} and b.target_account_id = any(array[s.account_id, o.account_id]))
      and not exists (select 1 from blocks b where b.target_account_id = ${owner} and b.account_id = any(array[s.account_id, o.account_id]))
      and not exists (select 1 from mutes mu
        where mu.account_id = ${owner} and mu.target_account_id = any(array[s.account_id, o.account_id])
          and (mu.expires_at is null or mu.expires_at > now()))
      and (s.in_reply_to_account_id is null or s.in_reply_to_account_id = s.account_id or s.in_reply_to_account_id = ${owner} or ${replies})
      and ${page.where}
    order by ${page.order} limit ${page.limit}`;
  return rows.map((r) => r.id);
}
