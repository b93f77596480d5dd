/**
 * GET /api/v1/directory: the profile directory — accounts that opted in (discoverable), ordered by latest post
 * (`active`, the default) or by creation (`new`), optionally local only; 40 by default, 80 at most, by offset.
 */
import * as v from "valibot";
import { findVisibleAccounts } from "../../features/accounts/service";
import { directory } from "../../features/directory/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderAccountsWithMoved } from "../entities/account";
import { limitParam, offsetParam } from "../v2/search";
import { flag } from "./graph";

const directoryQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.maxLength(12))),
  offset: v.optional(v.pipe(v.string(), v.maxLength(12))),
  order: v.optional(v.picklist(["active", "new"], "must be active or new")),
  local: v.optional(flag),
});

export function directoryRoutes(context: AppContext) {
  return routes(context, "directory", (r) => {
    r.get(
      "/api/v1/directory",
      { auth: "optional", scopes: ["read", "read:accounts"], query: directoryQuery, summary: "View profile directory", tags: ["directory"] },
      async ({ input, caller }) => {
        const q = input.query;
        const ids = await directory(context, {
          viewerId: caller?.account?.id ?? null,
          order: q.order ?? "active",
          local: q.local === true,
          limit: limitParam(q.limit, 40, 80),
          offset: offsetParam(q.offset),
        });
        return renderAccountsWithMoved(context, await findVisibleAccounts(context.sql, ids));
      },
    );
  });
}
