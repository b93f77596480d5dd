/**
 * Conversations upkeep, as subscribers of domain events (src/events.ts). Safe to run twice: adding a status
 * already recorded changes nothing (the latest status only moves forward), and removing one already gone is
 * a no-op.
 */
import type { Subscriber } from "../events/publish";
import { eventSchema } from "../events/schema";
import type { EventOf, PublishedEvent } from "../events/types";
import { defineJob } from "../../infra/queues/registry";
import { statusCreated, statusDeleted } from "./service";

export const conversationsJob = defineJob({
  name: "conversations.update",
  queue: "default",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 1000,
  async handler(event, ctx) {
    const e = event as unknown as PublishedEvent<EventOf<"status.created" | "status.deleted">>;
    if (e.type === "status.created") await statusCreated(ctx, e.statusId, e.eventId);
    else if (e.type === "status.deleted") await statusDeleted(ctx, e.statusId);
  },
});

export const conversationSubscribers: Subscriber[] = [
  {
    events: ["status.created", "status.deleted"],
    job: conversationsJob,
    // Only direct messages (not boosts) have conversations: anything else is not even looked at.
    skipForStatus: (status, event) => event.type === "status.created" && status !== undefined && (status.visibility !== "direct" || status.reblog_of_id !== null),
  },
];
