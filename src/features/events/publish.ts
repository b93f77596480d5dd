/**
 * Publishing a domain event: one job per subscriber (src/events.ts lists them), enqueued in one round trip,
 * each with a job id derived from the event id so a retried publish does not run a subscriber twice. Call it
 * after the transaction that made the change has committed (never inside it: a rolled-back change must not
 * be announced). Live clients hear about events through the streaming role, which subscribers feed.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import type { JobDefinition } from "../../infra/queues/registry";
import { SUBSCRIBERS } from "../../events";
import type { DomainEvent, DomainEventType, PublishedEvent } from "./types";

export interface Subscriber<T extends DomainEventType = DomainEventType> {
  events: readonly T[];
  job: JobDefinition<v.GenericSchema<PublishedEvent, PublishedEvent>>;
}

export { eventSchema } from "./schema";

export async function publishEvent(context: AppContext, event: DomainEvent): Promise<string> {
  const published: PublishedEvent = { ...event, eventId: crypto.randomUUID(), at: new Date().toISOString() };
  const targets = SUBSCRIBERS.filter((s) => (s.events as readonly string[]).includes(event.type));
  await Promise.all(
    targets.map((subscriber) => context.queues.enqueue(subscriber.job, published, { jobId: `${subscriber.job.name}-${published.eventId}` })),
  );
  return published.eventId;
}
