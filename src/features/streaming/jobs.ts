/**
 * Stream publishing as a subscriber of domain events (src/events.ts). A retried job may publish an event
 * twice; clients treat `update` of a known id as a refresh, as with Mastodon.
 */
import type { Subscriber } from "../events/publish";
import { defineJob } from "../../infra/queues/registry";
import { eventSchema } from "../events/schema";
import { streamNotification, streamRelationsChanged, streamStatusCreated, streamStatusDeleted, streamStatusUpdated } from "./service";


export const streamPublishJob = defineJob({
  name: "streaming.publish",
  queue: "default",
  schema: eventSchema,
  // Live events are worth little late: a couple of quick retries, then give up.
  attempts: 2,
  backoffMs: 500,
  async handler(event, ctx) {
    switch (event.type) {
      case "status.created":
      case "status.reblogged":
        return streamStatusCreated(ctx, event.statusId, event.eventId);
      case "status.updated":
        return streamStatusUpdated(ctx, event.statusId, event.eventId);
      case "status.deleted":
        return streamStatusDeleted(ctx, event);
      case "notification.created":
        return streamNotification(ctx, event);
      // Blocks change what both sides see; mutes and domain blocks only the actor's view.
      case "account.blocked":
      case "account.unblocked": {
        const on = event.type === "account.blocked";
        return streamRelationsChanged(ctx, [
          [event.accountId, { set: "blocking", value: event.targetAccountId, on }],
          [event.targetAccountId, { set: "blockedBy", value: event.accountId, on }],
        ]);
      }
      case "account.muted":
      case "account.unmuted":
        return streamRelationsChanged(ctx, [[event.accountId, { set: "muting", value: event.targetAccountId, on: event.type === "account.muted" }]]);
      case "account.domain_blocked":
      case "account.domain_unblocked":
        return streamRelationsChanged(ctx, [[event.accountId, { set: "domains", value: event.domain.toLowerCase(), on: event.type === "account.domain_blocked" }]]);
      default:
        return;
    }
  },
});

export const streamingSubscribers: Subscriber[] = [
  {
    events: [
      "status.created", "status.reblogged", "status.updated", "status.deleted", "notification.created",
      "account.blocked", "account.unblocked", "account.muted", "account.unmuted", "account.domain_blocked", "account.domain_unblocked",
    ],
    job: streamPublishJob,
  },
];
