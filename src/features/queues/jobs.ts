/**
 * Jobs about the queues themselves.
 * - queues.probe: a round trip through any queue; `woolly admin queues probe` uses it to measure how far a
 *   queue lags. It records its marker once (primary key), so running twice is harmless.
 * - queues.clean: recurring trim of finished job records so Redis memory stays flat.
 */
import * as v from "valibot";
import { defineJob } from "../../infra/queues/registry";
import { QUEUE_NAMES } from "../../infra/queues/names";

export const probeJob = defineJob({
  name: "queues.probe",
  queue: "default",
  schema: v.object({
    marker: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    queue: v.picklist(QUEUE_NAMES),
    enqueuedAt: v.pipe(v.string(), v.isoTimestamp()),
    /** Simulated work, bounded: lets operators (and the shutdown test) see in-flight jobs survive a restart. */
    workMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000)), 0),
  }),
  attempts: 3,
  backoffMs: 1000,
  async handler(payload, { sql }) {
    if (payload.workMs > 0) await Bun.sleep(payload.workMs);
    await sql`
      insert into queue_probes (marker, queue, enqueued_at)
      values (${payload.marker}, ${payload.queue}, ${payload.enqueuedAt})
      on conflict (marker) do nothing`;
  },
});

/** Probe jobs go to whichever queue is being measured; the definition above names the default. */
export function probeJobOn(queue: (typeof QUEUE_NAMES)[number]) {
  return { ...probeJob, queue };
}

export const cleanQueuesJob = defineJob({
  name: "queues.clean",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 30_000,
  async handler(_payload, { queues, sql }) {
    const day = 24 * 3600 * 1000;
    for (const queue of queues.all()) {
      await queue.clean(day, 10_000, "completed");
      await queue.clean(14 * day, 10_000, "failed");
    }
    await sql`delete from queue_probes where ran_at < now() - interval '7 days'`;
  },
});
