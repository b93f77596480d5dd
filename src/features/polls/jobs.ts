/**
 * Polls jobs.
 * - polls.close_expired (scheduler, every minute): close the polls that have ended and notify (service.ts).
 *   Safe to run twice: notifications are once per cause, and a closed poll is marked.
 */
import * as v from "valibot";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { closeExpiredPolls } from "./service";

export const closeExpiredPollsJob = defineJob({
  name: "polls.close_expired",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 10_000,
  async handler(_payload, context) {
    const closed = await closeExpiredPolls(context);
    if (closed > 0) log.info("polls closed", { closed });
  },
});
