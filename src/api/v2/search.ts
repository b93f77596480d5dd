/**
 * GET /api/v2/search (accounts, hashtags, statuses) and GET /api/v1/accounts/search. Mastodon's rules at the
 * door: q is required (400 "Missing search term"); without a user token, offset and resolve are refused (401)
 * and statuses are never searched; limit 20 by default, 40 at most (accounts/search: 40, 80). Beyond
 * Mastodon, q and offset are bounded (features/search/service.ts says why).
 *
 * /api/v1/accounts/search is registered before the accounts plugin so it wins over /api/v1/accounts/:id.
 */
import * as v from "valibot";
import { isAccountId, findVisibleAccounts } from "../../features/accounts/service";
import { MAX_OFFSET, MAX_QUERY_LENGTH, search, searchAccounts, type SearchType } from "../../features/search/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { renderAccountsWithMoved } from "../entities/account";
import { renderStatuses } from "../entities/status";
import { renderTags } from "../entities/tag";
import { pageParams } from "../pagination";
import { flag } from "../v1/graph";

const query = v.pipe(v.string(), v.maxLength(MAX_QUERY_LENGTH, `is too long (maximum is ${MAX_QUERY_LENGTH} characters)`));
const number = v.pipe(v.string(), v.maxLength(12, "must be a number"));

/** `offset`: a whole number from 0 to MAX_OFFSET (Mastodon: a negative offset is a 400). */
export function offsetParam(raw: string | undefined, max = MAX_OFFSET): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^-?\d{1,9}$/.test(raw)) throw ApiError.badRequest("offset must be a number");
  const n = Number(raw);
  if (n < 0) throw ApiError.badRequest("offset must not be negative");
  if (n > max) throw ApiError.badRequest(`offset must not be greater than ${max}`);
  return n;
}

/** `limit` with Mastodon's clamping (negative → 400, above the maximum → the maximum). */
export function limitParam(raw: string | undefined, defaultLimit: number, maxLimit: number): number {
  return pageParams({ limit: raw }, defaultLimit, maxLimit).limit;
}

const searchQuery = v.object({
  q: v.optional(query),
  type: v.optional(v.picklist(["accounts", "hashtags", "statuses", ""], "must be accounts, hashtags or statuses")),
  resolve: v.optional(flag),
  following: v.optional(flag),
  account_id: v.optional(v.pipe(v.string(), v.maxLength(25, "is not an id"))),
  exclude_unreviewed: v.optional(flag),
  limit: v.optional(number),
  offset: v.optional(number),
  max_id: v.optional(v.string()),
  min_id: v.optional(v.string()),
});

const accountSearchQuery = v.object({
  q: v.optional(query),
  resolve: v.optional(flag),
  following: v.optional(flag),
  limit: v.optional(number),
  offset: v.optional(number),
});

export function searchRoutes(context: AppContext) {
  return routes(context, "search", (r) => {
    r.get(
      "/api/v2/search",
      { auth: "optional", scopes: ["read", "read:search"], query: searchQuery, summary: "Perform a search", tags: ["search"] },
      async ({ input, caller }) => {
        const q = input.query;
        const viewer = caller?.account;
        if (!q.q?.trim()) throw ApiError.badRequest("Missing search term");
        if (!viewer && q.offset !== undefined && q.offset !== "") throw ApiError.unauthorized("Search queries pagination is not supported without authentication");
        if (!viewer && q.resolve) throw ApiError.unauthorized("Search queries that resolve remote resources are not supported without authentication");
        const page = pageParams({ limit: q.limit, max_id: q.max_id, min_id: q.min_id }, 20, 40);
        if (q.account_id !== undefined && !isAccountId(q.account_id)) throw ApiError.notFound();
        const offset = offsetParam(q.offset);
        const found = await search(context, viewer, {
          q: q.q,
          type: (q.type || undefined) as SearchType | undefined,
          resolve: q.resolve === true,
          following: q.following === true,
          accountId: q.account_id,
          excludeUnreviewed: q.exclude_unreviewed === true,
          limit: page.limit,
          // Checked always, applied only when a type is given (Mastodon): across types it would skip unrelated results.
          offset: q.type ? offset : 0,
          maxId: page.maxId,
          minId: page.minId,
        });
        const [accounts, statuses, hashtags] = await Promise.all([
          findVisibleAccounts(context.sql, found.accountIds),
          renderStatuses(context, viewer, found.statusIds),
          renderTags(context, found.tags),
        ]);
        return { accounts: await renderAccountsWithMoved(context, accounts.filter((a) => a.suspended_at === null)), statuses, hashtags };
      },
    );

    r.get(
      "/api/v1/accounts/search",
      { auth: "user", scopes: ["read", "read:accounts"], query: accountSearchQuery, summary: "Search for matching accounts", tags: ["accounts"] },
      async ({ input, caller }) => {
        const q = input.query;
        if (!q.q?.trim()) return [];
        const ids = await searchAccounts(context, caller.account!, {
          q: q.q,
          limit: limitParam(q.limit, 40, 80),
          offset: offsetParam(q.offset),
          resolve: q.resolve === true,
          following: q.following === true,
        });
        const accounts = await findVisibleAccounts(context.sql, ids);
        return renderAccountsWithMoved(context, accounts.filter((a) => a.suspended_at === null));
      },
    );
  });
}
