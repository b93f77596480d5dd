/**
 * Publishing a domain event. Call it after the transaction that made the change has committed (never inside
 * it: a rolled-back change must not be announced). Live clients hear about events through the streaming role,
 * which subscribers feed.
 *
 * ONE job per queue that has subscribers for the event (src/events.ts lists them), not one per subscriber:
 * under an inbox flood each job costs a BullMQ add, a worker fetch and a completion (Lua scripts and round
 * trips), and a remote post's status.created set off seven of them — more CPU than the work they did
 * (docs/benchmarks.md, "Inbox flood, second pass"). The job is named after the event (`event:status.created`)
 * and its payload lists the subscribers it runs, so the queues UI still says what is waiting; metrics record
 * each subscriber's run under its own job name. A queue with a single subscriber for the event gets that
 * subscriber's own job, exactly as before.
 *
 * The subscribers of a group run in-process one after the other, each guarded by its own mark (Redis
 * `event-done:<eventId>:<subscriber>`, a day, set only after it succeeded; the marks of one run are written
 * together, when it ends or before a hand-over): a group that runs again (retry, stalled job) runs only the
 * subscribers not yet done; after a worker killed mid-group, the whole group again. A subscriber that throws
 * does not fail the group: it continues in a job of its own (its name, its retry policy and backoff, this try
 * counted), so a slow or failing subscriber still retries on its own without re-running the others. The trade: within one
 * event and queue a slow subscriber delays the ones after it by one run (never by its retries) — all of them
 * are local database and Redis work; anything talking to other servers is a job of its own, enqueued by them.
 *
 * A subscriber may declare `skip`: nothing to do for this event, known cheaply at publish time (a remote
 * actor's post has nothing to deliver) — it is then not queued at all; and `skipForStatus`: nothing to do
 * for this status (no link for a card, not a direct message), judged from one read of the status row shared
 * by the group, instead of each subscriber's own queries (and transaction).
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { recordJob } from "../../infra/metrics";
import { defineJob, type JobContext, type JobDefinition } from "../../infra/queues/registry";
import type { QueueName } from "../../infra/queues/names";
import { SUBSCRIBERS } from "../../events";
import { statusFacts, type StatusFacts } from "./store";
import type { DomainEvent, DomainEventType, PublishedEvent } from "./types";

export interface Subscriber<T extends DomainEventType = DomainEventType> {
  events: readonly T[];
  /** Its name (metrics, marks), queue and retry policy; and the job a failed or lone run goes in. */
  job: JobDefinition<v.GenericSchema<PublishedEvent, PublishedEvent>>;
  /** True when this event needs nothing from it, decided cheaply (no I/O, or a cached lookup). */
  skip?: (context: AppContext, event: PublishedEvent) => boolean | Promise<boolean>;
  /**
   * For events about a status: true when this status needs nothing from it (a public post has no
   * conversation to update). Decided when its group runs, from the status row the group reads once for all
   * its subscribers (undefined: gone) — one query instead of each subscriber's own. Only inside a group: a
   * lone subscriber's own job decides for itself.
   */
  skipForStatus?: (status: StatusFacts | undefined, event: PublishedEvent) => boolean;
}

export type { StatusFacts };

export { eventSchema } from "./schema";

/** Marks live this long: longer than any group's retries and stalled-job recovery. */
const DONE_TTL_SECONDS = 24 * 3600;

const groupSchema = v.looseObject({
  type: v.string(),
  eventId: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  at: v.string(),
  /** The subscribers (job names) this group runs, in order. */
  subscribers: v.pipe(v.array(v.pipe(v.string(), v.maxLength(200))), v.minLength(1), v.maxLength(50)),
}) as unknown as v.GenericSchema<PublishedEvent & { subscribers: string[] }, PublishedEvent & { subscribers: string[] }>;

/**
 * Every event type, so each has its group job in the registry; a Record over the union makes the compiler
 * insist on a new type being listed here.
 */
const EVENT_TYPES: Record<DomainEventType, true> = {
  "status.created": true,
  "status.updated": true,
  "status.deleted": true,
  "status.reblogged": true,
  "status.favourited": true,
  "status.unfavourited": true,
  "account.followed": true,
  "account.follow_requested": true,
  "account.unfollowed": true,
  "account.blocked": true,
  "account.unblocked": true,
  "account.follow_rejected": true,
  "account.unmuted": true,
  "account.muted": true,
  "account.domain_blocked": true,
  "account.domain_unblocked": true,
  "account.updated": true,
  "notification.created": true,
  "poll.voted": true,
  "report.created": true,
};

function groupJob(type: string) {
  return defineJob({
    name: `event:${type}`,
    // The queue is the group's (publishEvent enqueues it where its subscribers are); this is the default.
    queue: "default",
    schema: groupSchema,
    // Subscriber failures never fail the group (they continue in their own jobs); what is left is Redis
    // trouble while marking or handing over, worth a few quick tries.
    attempts: 5,
    backoffMs: 1000,
    handler: (payload, context) => runGroup(context, payload),
  });
}

/** The group jobs, one per event type: src/jobs.ts registers them. */
export const eventJobs = Object.keys(EVENT_TYPES).map(groupJob);
const eventJobByType = new Map(eventJobs.map((job) => [job.name.slice("event:".length), job]));

function doneKey(context: AppContext, eventId: string, subscriber: string): string {
  const namespace = context.config.redis.namespace;
  return `${namespace ? `${namespace}:` : ""}event-done:${eventId}:${subscriber}`;
}

async function runGroup(context: JobContext, payload: PublishedEvent & { subscribers: string[] }): Promise<void> {
  const { subscribers: names, ...event } = payload;
  const published = event as PublishedEvent;
  const keys = names.map((name) => doneKey(context, published.eventId, name));
  const done = await context.redis.mget(...keys);
  // Marks of the subscribers that succeeded, written in one round trip: at the end, or before a hand-over
  // (whose failure fails the group, which must then not run them again).
  let succeeded: string[] = [];
  const mark = async () => {
    if (succeeded.length === 0) return;
    const pipeline = context.redis.pipeline();
    for (const key of succeeded) pipeline.set(key, "1", "EX", DONE_TTL_SECONDS, "NX");
    succeeded = [];
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  };
  let status: Promise<StatusFacts | undefined> | undefined;
  const statusId = "statusId" in published ? published.statusId : undefined;
  for (const [i, name] of names.entries()) {
    if (done[i] !== null) continue;
    const subscriber = SUBSCRIBERS.find((s) => s.job.name === name);
    if (!subscriber) {
      log.warn("event subscriber no longer exists", { event: published.type, subscriber: name });
      continue;
    }
    if (subscriber.skipForStatus && statusId && subscriber.skipForStatus(await (status ??= statusFacts(context.sql, statusId)), published)) continue;
    const started = performance.now();
    try {
      await subscriber.job.handler(published, context);
    } catch (error) {
      recordJob(subscriber.job.queue, name, "failed", (performance.now() - started) / 1000);
      await mark();
      await continueAlone(context, subscriber, published, error as Error);
      continue;
    }
    recordJob(subscriber.job.queue, name, "completed", (performance.now() - started) / 1000);
    succeeded.push(keys[i]!);
  }
  // A worker killed before this line loses these marks: the group then runs them again (every subscriber is
  // safe to run twice) — the price of one round trip instead of one per subscriber.
  await mark();
}

/** A subscriber failed inside its group: it retries as its own job, its first try spent. */
async function continueAlone(context: JobContext, subscriber: Subscriber, event: PublishedEvent, error: Error): Promise<void> {
  const { job } = subscriber;
  const attemptsLeft = job.attempts - 1;
  log.warn("event subscriber failed", { event: event.type, eventId: event.eventId, subscriber: job.name, retries: attemptsLeft, error: error.message });
  if (attemptsLeft < 1) return;
  // The same id as a lone subscriber's job, so a group that runs again does not queue it twice.
  await context.queues.enqueue({ ...job, attempts: attemptsLeft }, event, { jobId: `${job.name}-${event.eventId}`, delayMs: job.backoffMs });
  // Handed over: the group is done with it (its own job now owns the retries).
  await context.redis.set(doneKey(context, event.eventId, job.name), "handed-over", "EX", DONE_TTL_SECONDS, "NX");
}

export async function publishEvent(context: AppContext, event: DomainEvent): Promise<string> {
  const published: PublishedEvent = { ...event, eventId: crypto.randomUUID(), at: new Date().toISOString() };
  const byQueue = new Map<QueueName, Subscriber[]>();
  for (const subscriber of SUBSCRIBERS) {
    if (!(subscriber.events as readonly string[]).includes(event.type)) continue;
    if (subscriber.skip && (await subscriber.skip(context, published))) continue;
    const queue = subscriber.job.queue;
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), subscriber]);
  }
  await Promise.all(
    [...byQueue].map(([queue, subscribers]) => {
      if (subscribers.length === 1) {
        const { job } = subscribers[0]!;
        return context.queues.enqueue(job, published, { jobId: `${job.name}-${published.eventId}` });
      }
      const group = eventJobByType.get(event.type) ?? groupJob(event.type);
      const payload = { ...published, subscribers: subscribers.map((s) => s.job.name) };
      return context.queues.enqueue({ ...group, queue }, payload, { jobId: `event-${event.type}-${queue}-${published.eventId}`, forgetWhenDone: true });
    }),
  );
  return published.eventId;
}
