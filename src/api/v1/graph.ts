/**
 * What the graph's route files (follows, blocks, mutes, domain-blocks, endorsements, tags, account-statuses)
 * share: the boolean and id schemas clients send, the target-account lookup (404 for anything that names no
 * visible account) and the "page of accounts with a Link header" answer.
 */
import * as v from "valibot";
import { findVisibleAccount, findVisibleAccounts, type AccountWithUser } from "../../features/accounts/service";
import type { CursorRow } from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { renderAccountsWithMoved, type AccountEntity } from "../entities/account";
import { inDisplayOrder, linkHeader, type PageParams } from "../pagination";

const TRUE = ["true", "1", "on", "t", "yes"];
const FALSE = ["false", "0", "off", "f", "no", ""];

/** Forms send booleans as text ("true", "1"…), JSON as booleans; both become a boolean here. */
export const flag = v.pipe(
  v.union([v.boolean(), v.picklist([0, 1]), v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist([...TRUE, ...FALSE]))], "must be true or false"),
  v.transform((value) => value === true || value === 1 || TRUE.includes(value as string)),
);

/** `id[]=1&id[]=2`, `id=1` or a JSON list: always a list of strings (checked for shape later). */
export const idList = v.pipe(
  v.union([v.string(), v.array(v.string())], "must be a list of ids"),
  v.transform((ids) => (Array.isArray(ids) ? ids : [ids])),
);

export const idParams = v.object({ id: v.string() });

/** The account named in the path, or 404 (malformed ids, unknown, unconfirmed or unapproved accounts). */
export async function targetAccount(context: AppContext, id: string): Promise<AccountWithUser> {
  const account = await findVisibleAccount(context.sql, id);
  if (!account) throw ApiError.notFound();
  return account;
}

export interface PagedAnswer {
  request: Request;
  set: { headers: Record<string, string | number> };
}

/**
 * Render a page of (cursor, account id) rows as accounts, newest first, and set the Link header from the
 * rows' own cursors, so the next page starts right after this one even if some accounts were skipped.
 */
export async function accountPage(context: AppContext, { request, set }: PagedAnswer, rows: CursorRow[], page: PageParams): Promise<AccountEntity[]> {
  const ordered = inDisplayOrder(rows, page);
  const link = linkHeader(request.url, context.config.baseUrl, ordered.map((row) => row.cursor));
  if (link) set.headers.link = link;
  const accounts = await findVisibleAccounts(context.sql, ordered.map((row) => row.id));
  return renderAccountsWithMoved(context, accounts);
}
