/**
 * Quote posts (Mastodon 4.5): GET /api/v1/statuses/:id/quotes and POST
 * /api/v1/statuses/:id/quotes/:quoting_status_id/revoke. Woolly does not create or accept quotes yet, so
 * the author's list is empty and there is never a quote to revoke; only the author may ask, as on Mastodon.
 */
import * as v from "valibot";
import { findOwnStatus } from "../../features/statuses/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { paginationEntries } from "../pagination";

const idParams = v.object({ id: v.pipe(v.string(), v.maxLength(64)) });
const revokeParams = v.object({ id: v.pipe(v.string(), v.maxLength(64)), quoting_status_id: v.pipe(v.string(), v.maxLength(64)) });

export function quoteRoutes(context: AppContext) {
  return routes(context, "quotes", (r) => {
    r.get(
      "/api/v1/statuses/:id/quotes",
      { auth: "user", scopes: ["read", "read:statuses"], params: idParams, query: v.object(paginationEntries), summary: "See quotes of a status", tags: ["statuses"] },
      async ({ input, caller }) => {
        await findOwnStatus(context.sql, caller.account!, input.params.id);
        return [];
      },
    );

    r.post(
      "/api/v1/statuses/:id/quotes/:quoting_status_id/revoke",
      { auth: "user", scopes: ["write", "write:statuses"], params: revokeParams, summary: "Revoke a quote post", tags: ["statuses"] },
      async ({ input, caller }) => {
        await findOwnStatus(context.sql, caller.account!, input.params.id);
        throw ApiError.notFound();
      },
    );
  });
}
