/**
 * GET /api/v1/suggestions (deprecated in Mastodon, still called by older clients: the accounts alone) and
 * DELETE /api/v1/suggestions/:account_id (never suggest that account again).
 */
import * as v from "valibot";
import { dismissSuggestion } from "../../features/suggestions/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { suggestedAccounts, suggestionsQuery } from "../v2/suggestions";
import { targetAccount } from "./graph";

export function suggestionRoutes(context: AppContext) {
  return routes(context, "suggestions", (r) => {
    r.get(
      "/api/v1/suggestions",
      { auth: "user", scopes: ["read", "read:accounts"], query: suggestionsQuery, summary: "View follow suggestions (v1)", tags: ["suggestions"] },
      async ({ input, caller }) => (await suggestedAccounts(context, caller.account!.id, input.query.limit)).map((s) => s.account),
    );

    r.delete(
      "/api/v1/suggestions/:account_id",
      { auth: "user", scopes: ["read", "read:accounts"], params: v.object({ account_id: v.string() }), summary: "Remove a suggestion", tags: ["suggestions"] },
      async ({ input, caller }) => {
        const target = await targetAccount(context, input.params.account_id);
        await dismissSuggestion(context, caller.account!.id, target.id);
        return {};
      },
    );
  });
}
