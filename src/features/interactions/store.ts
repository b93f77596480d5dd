/**
 * SQL for interactions: favourites, bookmarks, boosts (statuses rows with reblog_of_id), pins and conversation
 * mutes, plus the counters they keep on statuses. Counters move only when a row was really inserted or
 * removed (insert … on conflict do nothing returning, delete … returning), so repeated and concurrent calls
 * leave them exact.
 */
import type { Db } from "../../infra/db";
import { visibleTo, type Visibility } from "../statuses/visibility";

export interface StatusRef {
  id: string;
  account_id: string;
  visibility: Visibility;
  reblog_of_id: string | null;
  conversation_id: string | null;
}

/** A status the viewer may see (the one visibility rule), or undefined. */
export async function findVisibleStatus(sql: Db, viewerId: string | null, statusId: string): Promise<StatusRef | undefined> {
  const [row] = await sql<StatusRef[]>`
    select s.id, s.account_id, s.visibility, s.reblog_of_id, s.conversation_id
    from statuses s where s.id = ${statusId} and ${visibleTo(sql, viewerId)}`;
  return row;
}

export async function authorBlocks(sql: Db, viewerId: string, authorId: string): Promise<boolean> {
  // The viewer blocking the author also forbids interacting (Mastodon's StatusPolicy#blocking_author?).
  const [row] = await sql`select 1 from blocks where account_id = ${viewerId} and target_account_id = ${authorId}`;
  return row !== undefined;
}

// ---- favourites and bookmarks: same shape, different table and counter ----

type Table = "favourites" | "bookmarks";

export async function insertMark(tx: Db, table: Table, accountId: string, statusId: string): Promise<boolean> {
  const rows = await tx`
    insert into ${tx(table)} (account_id, status_id) values (${accountId}, ${statusId})
    on conflict (account_id, status_id) do nothing returning id`;
  if (rows.length === 0) return false;
  if (table === "favourites") await tx`update statuses set favourites_count = favourites_count + 1 where id = ${statusId}`;
  return true;
}

export async function deleteMark(tx: Db, table: Table, accountId: string, statusId: string): Promise<boolean> {
  const rows = await tx`delete from ${tx(table)} where account_id = ${accountId} and status_id = ${statusId} returning id`;
  if (rows.length === 0) return false;
  if (table === "favourites") await tx`update statuses set favourites_count = greatest(favourites_count - 1, 0) where id = ${statusId}`;
  return true;
}

/** One page of a user's favourites or bookmarks, newest row first: the row id is the page cursor. */
export async function listMarks(
  sql: Db,
  table: Table,
  accountId: string,
  page: { where: ReturnType<Db["unsafe"]> | any; order: any; limit: number },
): Promise<{ id: string; status_id: string }[]> {
  return sql<{ id: string; status_id: string }[]>`
    select m.id, m.status_id from ${sql(table)} m
    where m.account_id = ${accountId} and ${page.where}
    order by ${page.order} limit ${page.limit}`;
}

export async function hasMark(sql: Db, table: Table, accountId: string, statusId: string): Promise<boolean> {
  const [row] = await sql`select 1 from ${sql(table)} where account_id = ${accountId} and status_id = ${statusId}`;
  return row !== undefined;
}

// ---- boosts ----

export async function isLiveReblog(sql: Db, reblogId: string): Promise<boolean> {
  const [row] = await sql`select 1 from statuses where id = ${reblogId} and reblog_of_id is not null and deleted_at is null`;
  return row !== undefined;
}

export async function findReblog(sql: Db, accountId: string, originalId: string): Promise<{ id: string; visibility: Visibility } | undefined> {
  const [row] = await sql<{ id: string; visibility: Visibility }[]>`
    select id, visibility from statuses where account_id = ${accountId} and reblog_of_id = ${originalId} and deleted_at is null`;
  return row;
}

/**
 * Insert the boost row; undefined when this account already boosts the status (the partial unique index
 * statuses_one_reblog settles concurrent boosts). The uri embeds the new id, so the id is drawn first.
 */
export async function insertReblog(
  tx: Db,
  input: { accountId: string; originalId: string; visibility: Visibility; uriPrefix: string; applicationId: string | null },
): Promise<string | undefined> {
  const [row] = await tx<{ id: string }[]>`
    with next as (select woolly_id() as id)
    insert into statuses (id, account_id, reblog_of_id, visibility, uri, url, application_id, local)
    select next.id, ${input.accountId}, ${input.originalId}, ${input.visibility},
           ${input.uriPrefix} || next.id || '/activity', null, ${input.applicationId}, true
    from next
    on conflict (account_id, reblog_of_id) where reblog_of_id is not null and deleted_at is null do nothing
    returning id`;
  if (!row) return undefined;
  await tx`update statuses set reblogs_count = reblogs_count + 1 where id = ${input.originalId}`;
  // A boost counts in the booster's statuses_count, as in Mastodon (deleting it through the statuses API
  // takes it off again).
  await tx`update accounts set statuses_count = statuses_count + 1, last_status_at = now() where id = ${input.accountId}`;
  return row.id;
}

/** Soft-delete this account's boost of the status; the removed boost's id, or undefined when there was none. */
export async function deleteReblog(tx: Db, accountId: string, originalId: string): Promise<{ id: string; visibility: Visibility } | undefined> {
  const [row] = await tx<{ id: string; visibility: Visibility }[]>`
    update statuses set deleted_at = now(), updated_at = now()
    where account_id = ${accountId} and reblog_of_id = ${originalId} and deleted_at is null
    returning id, visibility`;
  if (!row) return undefined;
  await tx`update statuses set reblogs_count = greatest(reblogs_count - 1, 0) where id = ${originalId}`;
  await tx`update accounts set statuses_count = greatest(statuses_count - 1, 0) where id = ${accountId}`;
  return row;
}

/** Accounts that boosted or favourited a status, one page, by boost / favourite row id. */
export async function listInteractors(
  sql: Db,
  kind: "reblogs" | "favourites",
  statusId: string,
  page: { where: any; order: any; limit: number },
): Promise<{ id: string; account_id: string }[]> {
  if (kind === "favourites") {
    return sql<{ id: string; account_id: string }[]>`
      select m.id, m.account_id from favourites m where m.status_id = ${statusId} and ${page.where}
      order by ${page.order} limit ${page.limit}`;
  }
  return sql<{ id: string; account_id: string }[]>`
    select m.id, m.account_id from statuses m
    where m.reblog_of_id = ${statusId} and m.deleted_at is null and ${page.where}
    order by ${page.order} limit ${page.limit}`;
}

// ---- pins ----

/** Serialise pins per account (the limit check and the insert must not interleave). */
export async function lockAccount(tx: Db, accountId: string): Promise<void> {
  await tx`select 1 from accounts where id = ${accountId} for update`;
}

export async function countPins(tx: Db, accountId: string): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select count(*)::int as n from status_pins where account_id = ${accountId}`;
  return row?.n ?? 0;
}

export async function isPinned(tx: Db, accountId: string, statusId: string): Promise<boolean> {
  const [row] = await tx`select 1 from status_pins where account_id = ${accountId} and status_id = ${statusId}`;
  return row !== undefined;
}

export async function insertPin(tx: Db, accountId: string, statusId: string): Promise<void> {
  await tx`insert into status_pins (account_id, status_id) values (${accountId}, ${statusId}) on conflict do nothing`;
}

export async function deletePin(sql: Db, accountId: string, statusId: string): Promise<void> {
  await sql`delete from status_pins where account_id = ${accountId} and status_id = ${statusId}`;
}

// ---- conversation mutes ----

/** Whether the account wrote in, or is mentioned in, any status of the conversation. */
export async function takesPartIn(sql: Db, accountId: string, conversationId: string): Promise<boolean> {
  const [row] = await sql`
    select 1 where exists (select 1 from statuses where conversation_id = ${conversationId} and account_id = ${accountId})
       or exists (select 1 from mentions m join statuses s on s.id = m.status_id
                  where s.conversation_id = ${conversationId} and m.account_id = ${accountId})`;
  return row !== undefined;
}

export async function insertConversationMute(sql: Db, accountId: string, conversationId: string): Promise<void> {
  await sql`insert into conversation_mutes (account_id, conversation_id) values (${accountId}, ${conversationId}) on conflict do nothing`;
}

export async function deleteConversationMute(sql: Db, accountId: string, conversationId: string): Promise<void> {
  await sql`delete from conversation_mutes where account_id = ${accountId} and conversation_id = ${conversationId}`;
}

/**
 * A remote account's boost (federation inbound): the uri is the Announce's id, the time its `published`.
 * Undefined when that boost is already stored (same uri, or this account already boosts the status).
 */
export async function insertRemoteReblog(
  tx: Db,
  input: { accountId: string; originalId: string; visibility: Visibility; uri: string; publishedAt: Date },
): Promise<string | undefined> {
  const [row] = await tx<{ id: string }[]>`
    insert into statuses (id, account_id, reblog_of_id, visibility, uri, url, local, created_at)
    values (woolly_id(${input.publishedAt}), ${input.accountId}, ${input.originalId}, ${input.visibility}, ${input.uri}, null, false, ${input.publishedAt})
    on conflict do nothing
    returning id`;
  if (!row) return undefined;
  await tx`update statuses set reblogs_count = reblogs_count + 1 where id = ${input.originalId}`;
  await tx`update accounts set statuses_count = statuses_count + 1, last_status_at = now() where id = ${input.accountId}`;
  return row.id;
}
