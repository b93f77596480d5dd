/**
 * Blocks and mutes: POST /api/v1/accounts/:id/{block,unblock,mute,unmute}, GET /api/v1/blocks and
 * GET /api/v1/mutes. A block cuts follows both ways (features/graph/service.block); an expired mute is gone.
 */
import * as v from "valibot";
import * as graph from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderRelationship } from "../entities/relationship";
import { pageParams, pageWhere, paginationEntries } from "../pagination";
import { accountPage, flag, idParams, targetAccount } from "./graph";

const ACCOUNTS_LIMIT = 40;
const pageQuery = v.object(paginationEntries);

/** Seconds, as a number or numeric text; 0 (or absent) means "until unmuted". */
const duration = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.trim(), v.regex(/^\d{0,12}$/, "must be a number of seconds"))], "must be a number of seconds"),
  v.transform((value) => (value === "" ? 0 : Number(value))),
  v.integer("must be a whole number of seconds"),
  v.minValue(0, "must not be negative"),
  v.maxValue(graph.MAX_MUTE_SECONDS, "is too long"),
);
const muteBody = v.object({ notifications: v.optional(flag), duration: v.optional(v.nullable(duration)) });

export function blockRoutes(context: AppContext) {
  return routes(context, "blocks", (r) => {
    r.post(
      "/api/v1/accounts/:id/block",
      { auth: "user", scopes: ["follow", "write:blocks"], params: idParams, summary: "Block account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.block(context, caller.account!, target.id);
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.post(
      "/api/v1/accounts/:id/unblock",
      { auth: "user", scopes: ["follow", "write:blocks"], params: idParams, summary: "Unblock account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.unblock(context, caller.account!, target.id);
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.post(
      "/api/v1/accounts/:id/mute",
      { auth: "user", scopes: ["follow", "write:mutes"], params: idParams, body: muteBody, summary: "Mute account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.mute(context, caller.account!, target.id, {
          notifications: input.body.notifications ?? true,
          durationSeconds: input.body.duration ?? 0,
        });
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.post(
      "/api/v1/accounts/:id/unmute",
      { auth: "user", scopes: ["follow", "write:mutes"], params: idParams, summary: "Unmute account", tags: ["accounts"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.id);
        await graph.unmute(context, caller.account!, target.id);
        return renderRelationship(context.sql, caller.account!.id, target.id);
      },
    );

    r.get(
      "/api/v1/blocks",
      { auth: "user", scopes: ["follow", "read:blocks"], query: pageQuery, summary: "View blocked users", tags: ["blocks"] },
      async ({ input, caller, request, set }) => {
        const page = pageParams(input.query, ACCOUNTS_LIMIT);
        const rows = await graph.blockRows(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`x.id`, page));
        return accountPage(context, { request, set }, rows, page);
      },
    );

    r.get(
      "/api/v1/mutes",
      { auth: "user", scopes: ["follow", "read:mutes"], query: pageQuery, summary: "View muted accounts", tags: ["mutes"] },
      async ({ input, caller, request, set }) => {
        const page = pageParams(input.query, ACCOUNTS_LIMIT);
        const rows = await graph.muteRows(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`x.id`, page));
        return accountPage(context, { request, set }, rows, page);
      },
    );
  });
}
