/**
 * Media jobs.
 * - media.process (default queue): finish a v2 upload. Idempotent: a row that is done (or gone) is skipped.
 *   Bad input marks the row failed at once; storage trouble is retried, and after the last try the row is
 *   marked failed too, so clients polling GET /api/v1/media/:id get an answer.
 * - media.remove_orphans (scheduler, hourly): unattached uploads older than a day, in batches of 500.
 * - media.evict_remote_cache (scheduler, hourly): cached remote media past MEDIA_CACHE_RETENTION_PERIOD, then
 *   least recently viewed until under MEDIA_CACHE_MAX_SIZE (cache.ts).
 * - media.plan_eager (default, on status.created) and media.warm_remote (pull): MEDIA_FETCH_FOLLOWED. The
 *   subscriber only reads our database; the job that talks to remote servers runs on `pull`, like cards.
 */
import * as v from "valibot";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { evictRemoteCache, retentionDays } from "./cache";
import { giveUp, processPending, removeOrphans } from "./service";
import type { Subscriber } from "../events/publish";
import type { EventOf, PublishedEvent } from "../events/types";
import { eventSchema } from "../events/schema";
import { warmFollowedStatus } from "./remote";
import * as store from "./store";

const PROCESS_ATTEMPTS = 3;

export const processMediaJob = defineJob({
  name: "media.process",
  queue: "default",
  schema: v.object({ id: v.pipe(v.string(), v.regex(/^\d{1,19}$/)) }),
  attempts: PROCESS_ATTEMPTS,
  backoffMs: 5000,
  async handler(payload, context) {
    try {
      await processPending(context, payload.id);
    } catch (error) {
      if (context.attempt >= PROCESS_ATTEMPTS) await giveUp(context, payload.id);
      throw error;
    }
  },
});

export const removeOrphansJob = defineJob({
  name: "media.remove_orphans",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 60_000,
  async handler(_payload, context) {
    const removed = await removeOrphans(context);
    if (removed.count > 0) log.info("orphaned media removed", { ...removed });
  },
});

export const evictRemoteCacheJob = defineJob({
  name: "media.evict_remote_cache",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 60_000,
  async handler(_payload, context) {
    const report = await evictRemoteCache(context, { retentionDays: await retentionDays(context), maxBytes: context.config.mediaCache.maxBytes });
    if (report.byAge.count + report.byBudget.count > 0) log.info("cached remote media evicted", { ...report });
  },
});

export const warmRemoteJob = defineJob({
  name: "media.warm_remote",
  queue: "pull",
  schema: v.object({ statusId: v.pipe(v.string(), v.regex(/^\d{1,19}$/)) }),
  attempts: 2,
  backoffMs: 60_000,
  async handler(payload, context) {
    const result = await warmFollowedStatus(context, payload.statusId);
    if (result.failed > 0) log.info("remote media not warmed", { statusId: payload.statusId, ...result });
  },
});

export const planEagerFetchJob = defineJob({
  name: "media.plan_eager",
  queue: "default",
  schema: eventSchema,
  attempts: 3,
  backoffMs: 5_000,
  async handler(event, context) {
    if (!context.config.mediaFetchFollowed) return;
    const e = event as PublishedEvent<EventOf<"status.created">>;
    if ((await store.uncachedOfFollowedStatus(context.sql, e.statusId)).length === 0) return;
    await context.queues.enqueue(warmRemoteJob, { statusId: e.statusId }, { jobId: `media.warm_remote-${e.eventId}` });
  },
});

export const mediaSubscribers: Subscriber[] = [{ events: ["status.created"], job: planEagerFetchJob }];
