/**
 * Preview-card jobs: a subscriber of new and edited statuses decides (stored card, or a fetch after a random
 * delay) on `default`, as it only reads our own database; the fetch job, which talks to the linked site, runs
 * on `pull` and does the one fetch per URL. A fetch job that finds the URL locked by another (or the domain
 * over its rate) re-enqueues itself a little later instead of fetching.
 */
import * as v from "valibot";
import type { Subscriber } from "../events/publish";
import type { EventOf, PublishedEvent } from "../events/types";
import { eventSchema } from "../events/schema";
import { defineJob } from "../../infra/queues/registry";
import { fetchCardFor, planCard } from "./service";

/** How many times a fetch job waits for another job's fetch of the same URL before giving up. */
const MAX_WAITS = 60;

export const cardFetchJob = defineJob({
  name: "cards.fetch",
  queue: "pull",
  schema: v.object({ statusId: v.pipe(v.string(), v.regex(/^\d{1,19}$/)), url: v.pipe(v.string(), v.maxLength(4096)), waits: v.optional(v.number(), 0) }),
  attempts: 3,
  backoffMs: 30_000,
  async handler(payload, ctx) {
    const outcome = await fetchCardFor(ctx, payload.statusId, payload.url);
    if (typeof outcome === "object" && payload.waits < MAX_WAITS) {
      const waits = payload.waits + 1;
      await ctx.queues.enqueue(cardFetchJob, { ...payload, waits }, { delayMs: outcome.retryInMs, jobId: `cards.fetch-${payload.statusId}-${waits}` });
    }
  },
});

export const cardLinkJob = defineJob({
  name: "cards.link",
  queue: "default",
  schema: eventSchema,
  attempts: 3,
  backoffMs: 5_000,
  async handler(event, ctx) {
    const e = event as PublishedEvent<EventOf<"status.created" | "status.updated">>;
    const plan = await planCard(ctx, e.statusId);
    if (plan.action === "fetch") {
      await ctx.queues.enqueue(cardFetchJob, { statusId: e.statusId, url: plan.url, waits: 0 }, { delayMs: plan.delayMs, jobId: `cards.fetch-${e.eventId}` });
    }
  },
});

export const cardSubscribers: Subscriber[] = [
  {
    events: ["status.created", "status.updated"],
    job: cardLinkJob,
    // A new post without a single link has no card to find, and none to unlink yet (an edit may have one).
    skipForStatus: (status, event) => event.type === "status.created" && status !== undefined && !/<a[\s>]/i.test(status.content),
  },
];
