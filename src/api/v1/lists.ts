/**
 * Lists: GET/POST /api/v1/lists, GET/PUT/DELETE /api/v1/lists/:id, GET/POST/DELETE /api/v1/lists/:id/accounts
 * (`account_ids[]`), GET /api/v1/timelines/list/:id and GET /api/v1/accounts/:id/lists. Someone else's list
 * is 404; the rules live in features/lists/service.ts.
 */
import * as v from "valibot";
import * as lists from "../../features/lists/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderList } from "../entities/list";
import { renderStatuses } from "../entities/status";
import { applyFilters } from "../filtering";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";
import { accountPage, flag, idList, idParams, targetAccount } from "./graph";

const READ = ["read", "read:lists"] as const;
const WRITE = ["write", "write:lists"] as const;
/** Mastodon: accounts 40 by default, 80 at most (limit=0: every member); statuses 20, 40 at most. */
const ACCOUNTS_LIMIT = 40;
const TIMELINE_LIMIT = 20;
/** More ids than this in one call is not a client, it is a probe. */
const MAX_IDS = 250;

// Generous raw caps: the service answers Mastodon's own limits with Mastodon's messages.
const listBody = v.object({
  title: v.optional(v.pipe(v.string(), v.maxLength(10_000, "is too long"))),
  replies_policy: v.optional(v.pipe(v.string(), v.maxLength(100, "is too long"))),
  exclusive: v.optional(flag),
});
const accountIds = v.optional(v.pipe(idList, v.maxLength(MAX_IDS, `has too many ids (maximum is ${MAX_IDS})`)));
const membersInput = v.object({ account_ids: accountIds });

export function listRoutes(context: AppContext) {
  return routes(context, "lists", (r) => {
    r.get("/api/v1/lists", { auth: "user", scopes: READ, summary: "View your lists", tags: ["lists"] }, async ({ caller }) =>
      (await lists.listsOf(context.sql, caller.account!)).map(renderList),
    );

    r.post("/api/v1/lists", { auth: "user", scopes: WRITE, body: listBody, summary: "Create a list", tags: ["lists"] }, async ({ input, caller }) =>
      renderList(await lists.createList(context.sql, caller.account!, input.body)),
    );

    r.get("/api/v1/lists/:id", { auth: "user", scopes: READ, params: idParams, summary: "Show a single list", tags: ["lists"] }, async ({ input, caller }) =>
      renderList(await lists.findList(context.sql, caller.account!, input.params.id)),
    );

    r.put("/api/v1/lists/:id", { auth: "user", scopes: WRITE, params: idParams, body: listBody, summary: "Update a list", tags: ["lists"] }, async ({ input, caller }) =>
      renderList(await lists.updateList(context.sql, caller.account!, input.params.id, input.body)),
    );

    r.delete("/api/v1/lists/:id", { auth: "user", scopes: WRITE, params: idParams, summary: "Delete a list", tags: ["lists"] }, async ({ input, caller }) => {
      await lists.deleteList(context.sql, caller.account!, input.params.id);
      return {};
    });

    r.get(
      "/api/v1/lists/:id/accounts",
      { auth: "user", scopes: READ, params: idParams, query: v.object(paginationEntries), summary: "View accounts in a list", tags: ["lists"] },
      async ({ input, caller, request, set }) => {
        if (input.query.limit === "0") {
          // Mastodon's "unlimited": every member, no Link header.
          const rows = await lists.memberRows(context.sql, caller.account!, input.params.id, undefined);
          return accountPage(context, { request, set: { headers: {} } }, rows, { limit: 0 });
        }
        const page = pageParams(input.query, ACCOUNTS_LIMIT);
        const rows = await lists.memberRows(context.sql, caller.account!, input.params.id, pageWhere(context.sql, context.sql`x.id`, page));
        return accountPage(context, { request, set }, rows, page);
      },
    );

    r.post(
      "/api/v1/lists/:id/accounts",
      { auth: "user", scopes: WRITE, params: idParams, query: membersInput, body: membersInput, summary: "Add accounts to a list", tags: ["lists"] },
      async ({ input, caller }) => {
        await lists.addMembers(context.sql, caller.account!, input.params.id, input.body.account_ids ?? input.query.account_ids ?? []);
        return {};
      },
    );

    r.delete(
      "/api/v1/lists/:id/accounts",
      { auth: "user", scopes: WRITE, params: idParams, query: membersInput, body: membersInput, summary: "Remove accounts from list", tags: ["lists"] },
      async ({ input, caller }) => {
        await lists.removeMembers(context.sql, caller.account!, input.params.id, input.body.account_ids ?? input.query.account_ids ?? []);
        return {};
      },
    );

    r.get(
      "/api/v1/timelines/list/:id",
      { auth: "user", scopes: READ, params: idParams, query: v.object(paginationEntries), summary: "View list timeline", tags: ["timelines"] },
      async ({ input, caller, request, set }) => {
        const viewer = caller.account!;
        const page = pageParams(input.query, TIMELINE_LIMIT);
        const ids = inDisplayOrder(await lists.timelineIds(context.sql, viewer, input.params.id, pageWhere(context.sql, context.sql`s.id`, page)), page);
        const link = linkHeader(request.url, context.config.baseUrl, ids);
        if (link) set.headers.link = link;
        return applyFilters(context, viewer, "home", await renderStatuses(context, viewer, ids));
      },
    );

    r.get(
      "/api/v1/accounts/:id/lists",
      { auth: "user", scopes: READ, params: idParams, summary: "Get lists containing this account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const account = await targetAccount(context, input.params.id);
        if (account.suspended_at) return [];
        return (await lists.listsHolding(context.sql, caller.account!, account.id)).map(renderList);
      },
    );
  });
}
