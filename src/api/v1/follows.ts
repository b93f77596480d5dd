/**
 * Following: POST /api/v1/accounts/:id/{follow,unfollow,remove_from_followers}, the follower and following
 * lists, relationships, familiar_followers, and /api/v1/follow_requests with authorize / reject.
 */
import * as v from "valibot";
import { findVisibleAccounts } from "../../features/accounts/service";
import * as graph from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { renderAccountsWithMoved } from "../entities/account";
import { renderRelationship, renderRelationships } from "../entities/relationship";
import { pageParams, pageWhere, paginationEntries } from "../pagination";
import { accountPage, flag, idList, idParams, targetAccount } from "./graph";

const WRITE_FOLLOWS = ["follow", "write:follows"] as const;
const READ_FOLLOWS = ["follow", "read:follows"] as const;
const READ_ACCOUNTS = ["read:accounts"] as const;

/** Mastodon's accounts list defaults (DEFAULT_ACCOUNTS_LIMIT 40, max twice that). */
const ACCOUNTS_LIMIT = 40;
/** relationships / familiar_followers: more ids than this is a client bug, not a use. */
const MAX_IDS = 100;

const language = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.regex(/^[a-z]{2,3}$/, "must be ISO 639 language codes"));
const followBody = v.object({
  reblogs: v.optional(flag),
  notify: v.optional(flag),
  languages: v.optional(
    v.nullable(
      v.pipe(
        v.union([language, v.array(language)], "must be a list of language codes"),
        v.transform((value) => (Array.isArray(value) ? value : [value])),
        v.maxLength(100, "has too many entries"),
      ),
    ),
  ),
});

const idsQuery = v.object({ id: v.optional(idList), with_suspended: v.optional(flag) });
const pageQuery = v.object(paginationEntries);

async function wantedAccounts(context: AppContext, ids: string[] | undefined, withSuspended: boolean) {
  const unique = [...new Set(ids ?? [])];
  if (unique.length > MAX_IDS) throw ApiError.unprocessable(`Too many accounts requested (maximum is ${MAX_IDS})`);
  return (await findVisibleAccounts(context.sql, unique)).filter((a) => withSuspended || a.suspended_at === null);
}

export function followRoutes(context: AppContext) {
  return routes(context, "follows", (r) => {
    r.post(
      "/api/v1/accounts/:id/follow",
      { auth: "user", scopes: WRITE_FOLLOWS, params: idParams, body: followBody, rateLimit: ["follow"], summary: "Follow account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        const b = input.body;
        await graph.follow(context, caller.account!, target, { showReblogs: b.reblogs, notify: b.notify, languages: b.languages });
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.post(
      "/api/v1/accounts/:id/unfollow",
      { auth: "user", scopes: WRITE_FOLLOWS, params: idParams, summary: "Unfollow account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.unfollow(context, caller.account!, target.id);
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.post(
      "/api/v1/accounts/:id/remove_from_followers",
      { auth: "user", scopes: WRITE_FOLLOWS, params: idParams, summary: "Remove account from followers", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.removeFromFollowers(context, caller.account!, target.id);
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.get(
      "/api/v1/accounts/relationships",
      { auth: "user", scopes: READ_FOLLOWS, query: idsQuery, summary: "Check relationships to other accounts", tags: ["accounts"] },
      async ({ input, caller }) => {
        const accounts = await wantedAccounts(context, input.query.id, input.query.with_suspended ?? false);
        return renderRelationships(context.sql, caller.account!.id, accounts.map((a) => a.id));
      },
    );

    r.get(
      "/api/v1/accounts/familiar_followers",
      { auth: "user", scopes: READ_FOLLOWS, query: idsQuery, summary: "Find familiar followers", tags: ["accounts"] },
      async ({ input, caller }) => {
        const targets = await wantedAccounts(context, input.query.id, false);
        const familiar = await graph.familiarFollowers(context.sql, caller.account!, targets.map((a) => a.id));
        const everyone = await findVisibleAccounts(context.sql, [...new Set([...familiar.values()].flat())]);
        const byId = new Map((await renderAccountsWithMoved(context, everyone.filter((a) => a.suspended_at === null))).map((a) => [a.id, a]));
        return targets.map((t) => ({ id: t.id, accounts: (familiar.get(t.id) ?? []).flatMap((id) => byId.get(id) ?? []) }));
      },
    );

    for (const direction of ["followers", "following"] as const) {
      r.get(
        `/api/v1/accounts/:id/${direction}`,
        { auth: "optional", scopes: READ_ACCOUNTS, params: idParams, query: pageQuery, summary: `Get account's ${direction}`, tags: ["accounts"] },
        async ({ input, caller, request, set }) => {
          const account = await targetAccount(context, input.params.id);
          const page = pageParams(input.query, ACCOUNTS_LIMIT);
          // hide_collections (or a block) shows an empty list to everyone but the owner, as Mastodon.
          if (!(await graph.collectionsVisible(context.sql, caller?.account, account))) return [];
          const list = direction === "followers" ? graph.followerRows : graph.followingRows;
          const rows = await list(context.sql, account.id, pageWhere(context.sql, context.sql`x.id`, page));
          return accountPage(context, { request, set }, rows, page);
        },
      );
    }

    r.get(
      "/api/v1/follow_requests",
      { auth: "user", scopes: READ_FOLLOWS, query: pageQuery, summary: "View pending follow requests", tags: ["follow_requests"] },
      async ({ input, caller, request, set }) => {
        const page = pageParams(input.query, ACCOUNTS_LIMIT);
        const rows = await graph.followRequestRows(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`x.id`, page));
        return accountPage(context, { request, set }, rows, page);
      },
    );

    r.post(
      "/api/v1/follow_requests/:id/authorize",
      { auth: "user", scopes: WRITE_FOLLOWS, params: idParams, summary: "Accept follow request", tags: ["follow_requests"] },
      async ({ input, caller }) => {
        const requester = await targetAccount(context, input.params.id);
        await graph.authorizeFollowRequest(context, caller.account!, requester.id);
        return renderRelationship(context.sql, caller.account!.id, requester.id);
      },
    );

    r.post(
      "/api/v1/follow_requests/:id/reject",
      { auth: "user", scopes: WRITE_FOLLOWS, params: idParams, summary: "Reject follow request", tags: ["follow_requests"] },
      async ({ input, caller }) => {
        const requester = await targetAccount(context, input.params.id);
        await graph.rejectFollowRequest(context, caller.account!, requester.id);
        return renderRelationship(context.sql, caller.account!.id, requester.id);
      },
    );
  });
}
