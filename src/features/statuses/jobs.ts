/**
 * Statuses jobs.
 * - statuses.publish_scheduled (scheduler, every minute): post the scheduled statuses that are due. Safe to
 *   run twice: each row is unscheduled inside the transaction that posts it.
 */
import * as v from "valibot";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { publishDue } from "./scheduled";

export const publishScheduledJob = defineJob({
  name: "statuses.publish_scheduled",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 10_000,
  async handler(_payload, context) {
    const published = await publishDue(context);
    if (published > 0) log.info("scheduled statuses published", { published });
  },
});
