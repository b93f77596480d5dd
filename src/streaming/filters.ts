/**
 * The reader's filters on streamed statuses, as Mastodon's streaming server applies them: `user` and `list`
 * streams in the home context, public and hashtag streams in the public context. A `hide` match drops the
 * event for that reader; `warn` / `blur` matches give that reader its own payload with `filtered` filled.
 * Readers without a match share the one render. Compiled filters are loaded when an account connects and
 * dropped on `filters_changed` or when its last connection goes (features/filters/cache.ts), so no event
 * costs a database query.
 */
import { peekCompiledFilters, trustedFiltersFor } from "../features/filters/cache";
import { activeIn, matchStatus, type FilterContext } from "../features/filters/match";
import type { AppContext } from "../infra/context";
import { withFiltered } from "../api/filtering";
import type { StatusEntity } from "../api/entities/status";
import type { Subscription } from "./connection";

export function filterContextOf(key: string[]): FilterContext | undefined {
  const stream = key[0] ?? "";
  if (stream === "user" || stream === "list") return "home";
  if (stream.startsWith("public") || stream.startsWith("hashtag")) return "public";
  return undefined;
}

export interface FilteredSplit {
  /** Subscriptions that get the shared payload. */
  shared: Subscription[];
  /** Readers with matches: their own payload. */
  own: { subscriptions: Subscription[]; json: string }[];
}

export async function splitByFilters(context: AppContext, subscriptions: Subscription[], entity: StatusEntity): Promise<FilteredSplit> {
  const shared: Subscription[] = [];
  const own = new Map<string, { subscriptions: Subscription[]; json: string } | null>();
  const now = Date.now();
  // Normally loaded when the account connected; one dropped since (a filter change) is reloaded here, all
  // such accounts at once rather than one after another.
  const missing = new Set<string>();
  for (const s of subscriptions) if (filterContextOf(s.key) && !peekCompiledFilters(s.connection.accountId)) missing.add(s.connection.accountId);
  const loaded = new Map(await Promise.all([...missing].map(async (id) => [id, await trustedFiltersFor(context, id)] as const)));
  for (const s of subscriptions) {
    const filterContext = filterContextOf(s.key);
    const accountId = s.connection.accountId;
    const compiled = filterContext ? (peekCompiledFilters(accountId) ?? loaded.get(accountId) ?? []) : [];
    const active = filterContext && compiled.length > 0 ? activeIn(compiled, filterContext, now) : [];
    if (active.length === 0) {
      shared.push(s);
      continue;
    }
    const cacheKey = `${accountId}:${filterContext}`;
    let slot = own.get(cacheKey);
    if (slot === undefined) {
      const matches = matchStatus(active, entity, accountId);
      if (matches.length === 0) slot = { subscriptions: [], json: "" };
      else if (matches.some((m) => m.filter.action === "hide")) slot = null;
      else slot = { subscriptions: [], json: JSON.stringify(withFiltered(entity, matches)) };
      own.set(cacheKey, slot);
    }
    if (slot === null) continue;
    if (slot.json === "") shared.push(s);
    else slot.subscriptions.push(s);
  }
  return { shared, own: [...own.values()].filter((slot): slot is { subscriptions: Subscription[]; json: string } => slot !== null && slot.json !== "") };
}
