/**
 * Lists (Mastodon's List / ListAccount): a user's named groups of accounts they follow, each with a timeline.
 *
 * Choices, said once:
 * - Only accounts the owner follows can be members (422 otherwise; a pending follow request or oneself does
 *   not count — Mastodon 4.3 also admits those). A member row references the follow, so unfollowing (or a
 *   block, which ends the follow) removes the account from every list.
 * - The list timeline is read from Postgres (members' posts and boosts, visibility and block/mute filtered,
 *   replies per `replies_policy`, newest first, paged by status id), not from a Redis feed like Mastodon's:
 *   always right, no fan-out, and an index walk per member is cheap at list sizes.
 * - `exclusive` lists hide their members' posts from the owner's home timeline at read time (see
 *   timelines/store.ts stillInHome).
 * - Another user's list answers 404, as Mastodon.
 */
import type { AccountRow } from "../accounts/store";
import { findVisibleAccounts, isAccountId } from "../accounts/service";
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import * as store from "./store";

export type { ListRow, RepliesPolicy, Page } from "./store";

type Owner = Pick<AccountRow, "id">;

export const REPLIES_POLICIES: readonly store.RepliesPolicy[] = ["followed", "list", "none"];
/** Mastodon's List::TITLE_LENGTH_LIMIT and List::PER_ACCOUNT_LIMIT. */
export const TITLE_MAX_LENGTH = 256;
export const LISTS_PER_ACCOUNT = 50;

export interface ListInput {
  title?: string;
  replies_policy?: string;
  exclusive?: boolean;
}

function checkTitle(title: string | undefined, required: boolean): void {
  if (title === undefined && !required) return;
  if (title === undefined || title.trim() === "") throw ApiError.unprocessable("Validation failed: Title can't be blank");
  if ([...title].length > TITLE_MAX_LENGTH) throw ApiError.unprocessable(`Validation failed: Title is too long (maximum is ${TITLE_MAX_LENGTH} characters)`);
}

function checkPolicy(policy: string | undefined): store.RepliesPolicy | undefined {
  if (policy === undefined) return undefined;
  if (!(REPLIES_POLICIES as readonly string[]).includes(policy)) throw ApiError.unprocessable("Validation failed: Replies policy is not included in the list");
  return policy as store.RepliesPolicy;
}

export const listsOf = (sql: Db, owner: Owner) => store.listsOf(sql, owner.id);

/** The owner's list `id`, or 404 (unknown, malformed, or someone else's). */
export async function findList(sql: Db, owner: Owner, id: string): Promise<store.ListRow> {
  const list = isAccountId(id) ? await store.findList(sql, owner.id, id) : undefined;
  if (!list) throw ApiError.notFound();
  return list;
}

export async function createList(sql: Sql, owner: Owner, input: ListInput): Promise<store.ListRow> {
  checkTitle(input.title, true);
  const policy = checkPolicy(input.replies_policy) ?? "list";
  return sql.begin(async (tx) => {
    // One owner's creations in turn, so the limit holds under concurrent requests.
    await tx`select pg_advisory_xact_lock(hashtextextended('lists:' || ${owner.id}::text, 0))`;
    if ((await store.countLists(tx, owner.id)) >= LISTS_PER_ACCOUNT) throw ApiError.unprocessable("Validation failed: You have reached the maximum number of lists");
    return store.insertList(tx, owner.id, { title: input.title!, replies_policy: policy, exclusive: input.exclusive ?? false });
  }) as Promise<store.ListRow>;
}

export async function updateList(sql: Db, owner: Owner, id: string, input: ListInput): Promise<store.ListRow> {
  await findList(sql, owner, id);
  checkTitle(input.title, false);
  const policy = checkPolicy(input.replies_policy);
  const list = await store.updateList(sql, owner.id, id, { title: input.title, replies_policy: policy, exclusive: input.exclusive });
  if (!list) throw ApiError.notFound();
  return list;
}

export async function deleteList(sql: Db, owner: Owner, id: string): Promise<void> {
  await findList(sql, owner, id);
  await store.deleteList(sql, owner.id, id);
}

/**
 * Add accounts to the list, all or none: any id naming no visible account is 404 (Mastodon's Account.find);
 * one the owner does not follow, or already on the list, is 422.
 */
export async function addMembers(sql: Sql, owner: Owner, id: string, accountIds: string[]): Promise<void> {
  const list = await findList(sql, owner, id);
  const wanted = [...new Set(accountIds)];
  if (wanted.length === 0) return;
  if (!wanted.every(isAccountId)) throw ApiError.notFound();
  const accounts = await findVisibleAccounts(sql, wanted);
  if (accounts.length !== wanted.length) throw ApiError.notFound();
  await sql.begin(async (tx) => {
    await store.lockList(tx, list.id);
    for (const accountId of wanted) {
      if (await store.isMember(tx, list.id, accountId)) throw ApiError.unprocessable("Validation failed: Account has already been taken");
      if (!(await store.insertMember(tx, list, accountId))) throw ApiError.unprocessable("Validation failed: Account must be an account you follow");
    }
  });
}

export async function removeMembers(sql: Db, owner: Owner, id: string, accountIds: string[]): Promise<void> {
  const list = await findList(sql, owner, id);
  const ids = [...new Set(accountIds.filter(isAccountId))];
  if (ids.length > 0) await store.deleteMembers(sql, list.id, ids);
}

/** The list's members as (cursor, account id), newest membership first; `page` undefined means all. */
export async function memberRows(sql: Db, owner: Owner, id: string, page: store.Page | undefined) {
  const list = await findList(sql, owner, id);
  return store.memberRows(sql, list.id, page);
}

/** The owner's lists that hold `accountId`. */
export const listsHolding = (sql: Db, owner: Owner, accountId: string) => store.listsHolding(sql, owner.id, accountId);

/** A page of the list's timeline as status ids, in the page's order (see store.timelineIds). */
export async function timelineIds(sql: Db, owner: Owner, id: string, page: store.Page): Promise<string[]> {
  const list = await findList(sql, owner, id);
  return store.timelineIds(sql, list, page);
}
