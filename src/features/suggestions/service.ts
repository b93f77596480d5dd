/**
 * Follow suggestions (Mastodon's AccountSuggestions, simplified and computed on request from the graph):
 * friends of friends first, then the most followed local accounts. Only accounts that chose to be
 * discoverable are ever suggested; a dismissed suggestion never comes back.
 */
import type { AppContext } from "../../infra/context";
import * as store from "./store";

export type SuggestionSource = "friends_of_friends" | "most_followed";

export interface Suggestion {
  accountId: string;
  sources: SuggestionSource[];
}

export async function suggestions(context: Pick<AppContext, "sql">, viewerId: string, limit: number): Promise<Suggestion[]> {
  const [friends, popular] = await Promise.all([store.friendsOfFriends(context.sql, viewerId, limit), store.popularLocal(context.sql, viewerId, limit)]);
  const byId = new Map<string, Suggestion>();
  for (const id of friends) byId.set(id, { accountId: id, sources: ["friends_of_friends"] });
  for (const id of popular) {
    const existing = byId.get(id);
    if (existing) existing.sources.push("most_followed");
    else byId.set(id, { accountId: id, sources: ["most_followed"] });
  }
  return [...byId.values()].slice(0, limit);
}

/** DELETE /api/v1/suggestions/:account_id — idempotent, and silent for ids that name nobody. */
export async function dismissSuggestion(context: Pick<AppContext, "sql">, viewerId: string, targetId: string): Promise<void> {
  await store.dismiss(context.sql, viewerId, targetId);
}
