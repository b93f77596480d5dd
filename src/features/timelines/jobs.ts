/**
 * Home feed upkeep, as subscribers of domain events (src/events.ts). Every handler is safe to run twice:
 * adding an id already in a feed and removing one already gone are no-ops.
 */
import type { Subscriber } from "../events/publish";
import type { EventOf, PublishedEvent } from "../events/types";
import { defineJob } from "../../infra/queues/registry";
import { eventSchema } from "../events/schema";
import { fanOutStatus, mergeIntoHome, removeStatusFromFeeds, separateFeeds, unmergeFromHome } from "./service";


/** A new post or boost goes into the home feeds of its author and local recipients. */
export const feedInsertJob = defineJob({
  name: "timelines.fan_out",
  queue: "default",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 1000,
  async handler(event, ctx) {
    const e = event as unknown as EventOf<"status.created" | "status.reblogged">;
    await fanOutStatus(ctx, e.statusId);
  },
});

/** A deleted post (or undone boost) leaves every feed, with the boosts of it. */
export const feedRemoveJob = defineJob({
  name: "timelines.remove",
  queue: "default",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 1000,
  async handler(event, ctx) {
    await removeStatusFromFeeds(ctx, event as unknown as EventOf<"status.deleted">);
  },
});

/** Follows (and unmutes) merge the account's recent posts in; unfollows and blocks take them out. */
export const feedGraphJob = defineJob({
  name: "timelines.graph",
  queue: "default",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 1000,
  async handler(event, ctx) {
    const e = event as unknown as EventOf<"account.followed" | "account.unfollowed" | "account.blocked" | "account.unmuted">;
    // An unmute merges like a follow: only when following (mergeCandidates joins follows), as Mastodon's UnmuteService.
    if (e.type === "account.followed" || e.type === "account.unmuted") await mergeIntoHome(ctx, e.accountId, e.targetAccountId);
    else if (e.type === "account.unfollowed") await unmergeFromHome(ctx, e.accountId, e.targetAccountId);
    else if (e.type === "account.blocked") await separateFeeds(ctx, e.accountId, e.targetAccountId);
  },
});

export const timelineSubscribers: Subscriber[] = [
  { events: ["status.created", "status.reblogged"], job: feedInsertJob },
  { events: ["status.deleted"], job: feedRemoveJob },
  { events: ["account.followed", "account.unfollowed", "account.blocked", "account.unmuted"], job: feedGraphJob },
];
