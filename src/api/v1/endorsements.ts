/**
 * Endorsements ("featured profiles") and private notes: POST /api/v1/accounts/:id/{pin,unpin} and their
 * Mastodon 4.4 aliases {endorse,unendorse}, GET /api/v1/endorsements (mine), GET
 * /api/v1/accounts/:id/endorsements (anyone's, public), POST /api/v1/accounts/:id/note.
 */
import * as v from "valibot";
import * as graph from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderRelationship } from "../entities/relationship";
import { pageParams, pageWhere, paginationEntries } from "../pagination";
import { accountPage, idParams, targetAccount } from "./graph";

const ACCOUNTS_LIMIT = 40;
const pageQuery = v.object(paginationEntries);
const WRITE_ACCOUNTS = ["write", "write:accounts"] as const;
const READ_ACCOUNTS = ["read", "read:accounts"] as const;

// A generous raw cap: the service answers Mastodon's 2000-character limit with its own message.
const noteBody = v.object({ comment: v.optional(v.pipe(v.nullable(v.string()), v.transform((s) => s ?? ""), v.maxLength(20_000, "is too long")), "") });

export function endorsementRoutes(context: AppContext) {
  return routes(context, "endorsements", (r) => {
    for (const [verb, summary] of [["pin", "Feature account on your profile"], ["endorse", "Feature account on your profile"]] as const) {
      r.post(
        `/api/v1/accounts/:id/${verb}`,
        { auth: "user", scopes: WRITE_ACCOUNTS, params: idParams, summary, tags: ["accounts"] },
        async ({ input, caller }) => {
          const target = await targetAccount(context, input.params.id);
          await graph.endorse(context, caller.account!, target.id);
          return renderRelationship(context.sql, caller.account!.id, target.id);
        },
      );
    }

    for (const [verb, summary] of [["unpin", "Unfeature account from profile"], ["unendorse", "Unfeature account from profile"]] as const) {
      r.post(
        `/api/v1/accounts/:id/${verb}`,
        { auth: "user", scopes: WRITE_ACCOUNTS, params: idParams, summary, tags: ["accounts"] },
        async ({ input, caller }) => {
          const target = await targetAccount(context, input.params.id);
          await graph.unendorse(context, caller.account!, target.id);
          return renderRelationship(context.sql, caller.account!.id, target.id);
        },
      );
    }

    r.post(
      "/api/v1/accounts/:id/note",
      { auth: "user", scopes: WRITE_ACCOUNTS, params: idParams, body: noteBody, summary: "Set private note on profile", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.setNote(context, caller.account!, target.id, input.body.comment);
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.get(
      "/api/v1/endorsements",
      { auth: "user", scopes: READ_ACCOUNTS, query: pageQuery, summary: "View currently featured profiles", tags: ["endorsements"] },
      async ({ input, caller, request, set }) => {
        const page = pageParams(input.query, ACCOUNTS_LIMIT);
        const rows = await graph.pinRows(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`x.id`, page));
        return accountPage(context, { request, set }, rows, page);
      },
    );

    r.get(
      "/api/v1/accounts/:id/endorsements",
      { auth: "optional", scopes: READ_ACCOUNTS, params: idParams, query: pageQuery, summary: "Get accounts featured by an account", tags: ["accounts"] },
      async ({ input, caller, request, set }) => {
        const account = await targetAccount(context, input.params.id);
        const page = pageParams(input.query, ACCOUNTS_LIMIT);
        if (!(await graph.collectionsVisible(context.sql, caller?.account, { id: account.id, hide_collections: false }))) return [];
        const rows = await graph.pinRows(context.sql, account.id, pageWhere(context.sql, context.sql`x.id`, page));
        return accountPage(context, { request, set }, rows, page);
      },
    );
  });
}
