/**
 * GET /api/v2/suggestions: accounts to follow, each with why (Mastodon's Suggestion entity: `sources`, and the
 * deprecated `source` older clients read). v1 (plain accounts) and DELETE live in ../v1/suggestions.ts.
 */
import * as v from "valibot";
import { findVisibleAccounts } from "../../features/accounts/service";
import { suggestions, type SuggestionSource } from "../../features/suggestions/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderAccountsWithMoved, type AccountEntity } from "../entities/account";
import { limitParam } from "./search";

export const suggestionsQuery = v.object({ limit: v.optional(v.pipe(v.string(), v.maxLength(12))) });

/** Mastodon's mapping from the 4.3 `sources` to the older single `source`. */
const LEGACY_SOURCE: Record<SuggestionSource, "global" | "past_interactions"> = { most_followed: "global", friends_of_friends: "past_interactions" };

export async function suggestedAccounts(context: AppContext, viewerId: string, rawLimit: string | undefined) {
  const found = await suggestions(context, viewerId, limitParam(rawLimit, 40, 80));
  const accounts = new Map((await renderAccountsWithMoved(context, await findVisibleAccounts(context.sql, found.map((s) => s.accountId)))).map((a) => [a.id, a]));
  return found.flatMap((s) => {
    const account = accounts.get(s.accountId);
    return account ? [{ source: LEGACY_SOURCE[s.sources[0]!], sources: s.sources, account }] : [];
  }) as { source: string; sources: SuggestionSource[]; account: AccountEntity }[];
}

export function suggestionV2Routes(context: AppContext) {
  return routes(context, "suggestions-v2", (r) => {
    r.get(
      "/api/v2/suggestions",
      { auth: "user", scopes: ["read", "read:accounts"], query: suggestionsQuery, summary: "View follow suggestions", tags: ["suggestions"] },
      ({ input, caller }) => suggestedAccounts(context, caller.account!.id, input.query.limit),
    );
  });
}
