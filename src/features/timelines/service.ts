/**
 * Timelines: the home feed (fan-out on write into Redis, rebuilt from Postgres when Redis has lost it, as
 * Mastodon's FeedManager / FanOutOnWriteService), and the public and hashtag timelines (read from Postgres).
 *
 * Choices, said once:
 * - Fan-out only writes into feeds that exist in Redis, a feed expires after two weeks without a read
 *   (feeds.FEED_TTL_SECONDS, as Mastodon stops feeding users inactive for two weeks), and a missing feed is
 *   rebuilt on its next read: an account that does not read costs nothing.
 * - The rebuild is synchronous on first read (one bounded query, at most MAX_ITEMS rows), and the answer is a
 *   200 with the full page — not Mastodon's 206 "regenerating" with a partial one.
 */
import type { AppContext } from "../../infra/context";
import type { EventOf } from "../events/types";
import { normalizeTagName } from "../graph/service";
import * as feeds from "./feeds";
import * as store from "./store";

/** How many of a newly followed account's posts are merged into the follower's feed (Mastodon: 40-ish). */
export const MERGE_ON_FOLLOW = 40;

/** Timelines need Postgres, Redis and the config only (the admin CLI has no queue client). */
export type FeedContext = Pick<AppContext, "sql" | "redis" | "config">;

const ns = (context: FeedContext) => context.config.redis.namespace;

/** Put a new status or boost into its author's feed and its local recipients' feeds. Safe to run twice. */
export async function fanOutStatus(context: FeedContext, statusId: string): Promise<{ recipients: number }> {
  const status = await store.findForFanOut(context.sql, statusId);
  if (!status || status.deleted) return { recipients: 0 };
  const item = { id: status.id, reblogOfId: status.reblog_of_id };
  const recipients = await store.fanOutRecipients(context.sql, status);
  const targets = status.author_local ? [status.account_id, ...recipients] : recipients;
  await feeds.addToFeeds(context.redis, ns(context), targets, item);
  return { recipients: recipients.length };
}

/** Take a deleted status, and every boost of it, out of every feed that may hold them. */
export async function removeStatusFromFeeds(context: FeedContext, event: EventOf<"status.deleted">): Promise<void> {
  const boosts = await store.boostsOf(context.sql, event.statusId);
  const items = [{ id: event.statusId, reblogOfId: event.reblogOfId }, ...boosts.map((id) => ({ id, reblogOfId: event.statusId }))];
  const accounts = await store.feedsThatMayHold(context.sql, event.statusId, event.accountId);
  await feeds.removeFromFeeds(context.redis, ns(context), accounts, items);
}

/** A new follow: the followed account's recent posts join the follower's feed (if the feed exists yet). */
export async function mergeIntoHome(context: FeedContext, accountId: string, targetId: string): Promise<void> {
  const items = await store.mergeCandidates(context.sql, accountId, targetId, MERGE_ON_FOLLOW);
  await feeds.addManyToFeed(context.redis, ns(context), accountId, items, true);
}

/** An unfollow: the unfollowed account's posts and boosts leave the feed. */
export async function unmergeFromHome(context: FeedContext, accountId: string, targetId: string): Promise<void> {
  const ids = await feeds.feedIds(context.redis, ns(context), accountId);
  const removals = await store.unfollowRemovals(context.sql, accountId, targetId, ids);
  await feeds.removeFromFeeds(context.redis, ns(context), [accountId], removals);
}

/** A block cuts both ways: each side's feed loses the other's posts, boosts, and boosts of its posts. */
export async function separateFeeds(context: FeedContext, accountId: string, targetId: string): Promise<void> {
  for (const [owner, other] of [[accountId, targetId], [targetId, accountId]] as const) {
    const ids = await feeds.feedIds(context.redis, ns(context), owner);
    const removals = await store.blockRemovals(context.sql, other, ids);
    await feeds.removeFromFeeds(context.redis, ns(context), [owner], removals);
  }
}

/**
 * Build an account's home feed from Postgres. `fresh` drops what Redis holds first (the admin command);
 * otherwise what is there is kept and merged (a concurrent fan-out may already have written into it).
 */
export async function rebuildHome(context: FeedContext, accountId: string, fresh = false): Promise<number> {
  await feeds.beginBuild(context.redis, ns(context), accountId, fresh);
  const items = await store.homeCandidates(context.sql, accountId, feeds.MAX_ITEMS);
  await feeds.addManyToFeed(context.redis, ns(context), accountId, items, false);
  await feeds.finishBuild(context.redis, ns(context), accountId);
  return items.length;
}

export interface HomePage {
  /** The ids the page covered in the feed, newest first: the pagination cursors. */
  cursors: string[];
  /**
   * What to render: those ids that still fit the home timeline now (mutes, blocks and exclusive lists applied
   * at read time), as a condition for the render page query rather than a query of its own.
   */
  ids: string[];
  where: ReturnType<typeof store.stillInHome>;
}

export async function homePage(context: FeedContext, accountId: string, page: feeds.FeedPage): Promise<HomePage> {
  let read = await feeds.readFeedPage(context.redis, ns(context), accountId, page);
  if (!read.built) {
    await rebuildHome(context, accountId);
    read = await feeds.readFeedPage(context.redis, ns(context), accountId, page);
  }
  return { cursors: read.ids, ids: read.ids, where: store.stillInHome(context.sql, accountId) };
}

/** The public timeline page, as the query that selects its statuses (for renderSelectedStatuses). */
export function publicPage(context: FeedContext, viewerId: string | null, filters: store.PublicFilters, page: store.Page): ReturnType<typeof store.publicIdsQuery> {
  return store.publicIdsQuery(context.sql, viewerId, filters, page);
}

/**
 * A hashtag timeline: `hashtag` plus `any` widen it, each of `all` narrows it, `none` excludes. An unknown
 * tag in `hashtag`/`any` simply matches nothing; an unknown one in `all` makes the page empty.
 */
export async function tagPage(
  context: FeedContext,
  viewerId: string | null,
  tags: { hashtag: string; any: string[]; all: string[]; none: string[] },
  filters: store.PublicFilters,
  page: store.Page,
): Promise<string[]> {
  // Names as the tags table stores them; a name that cannot be a hashtag matches nothing.
  const names = (list: string[]) => [...new Set(list.flatMap((n) => normalizeTagName(n)?.name ?? []))];
  const anyNames = names([tags.hashtag, ...tags.any]);
  const allNames = names(tags.all);
  const noneNames = names(tags.none);
  const known = await store.tagIdsByName(context.sql, [...anyNames, ...allNames, ...noneNames]);
  const anyOf = anyNames.flatMap((n) => (known.has(n) ? [known.get(n)!] : []));
  if (anyOf.length === 0 || allNames.some((n) => !known.has(n))) return [];
  const allOf = allNames.map((n) => known.get(n)!);
  const noneOf = noneNames.flatMap((n) => (known.has(n) ? [known.get(n)!] : []));
  return store.tagIds(context.sql, viewerId, { anyOf, allOf, noneOf }, filters, page);
}

/** `woolly admin feeds build`: rebuild one or all local accounts' feeds from scratch. */
export async function rebuildFeeds(context: FeedContext, accountIds: string[] | "all", progress?: (done: number) => void): Promise<number> {
  const ids = accountIds === "all" ? await store.localAccountIds(context.sql) : accountIds;
  let done = 0;
  for (const id of ids) {
    await rebuildHome(context, id, true);
    progress?.(++done);
  }
  return done;
}

export async function clearFeeds(context: Pick<FeedContext, "redis" | "config">): Promise<number> {
  return feeds.clearAllFeeds(context.redis, context.config.redis.namespace);
}
