/**
 * content.retention (scheduler queue, hourly): applies `content_cache_retention_period` when it is set.
 * A run works for at most a few minutes, pausing between batches, so the scheduler queue and the
 * subscribers fed by the deletions are never starved; what is left is removed by the next run.
 */
import * as v from "valibot";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { PURGE_AFTER_DAYS, purgeDeletedStatuses } from "./purge";
import { contentRetentionDays, removeOldRemoteStatuses } from "./service";

export const contentRetentionJob = defineJob({
  name: "content.retention",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 60_000,
  async handler(_payload, context) {
    const days = await contentRetentionDays(context);
    if (days === null) return;
    const report = await removeOldRemoteStatuses(context, { days, batchSize: 500, pauseMs: 1000, budgetMs: 5 * 60 * 1000 });
    if (report.removed > 0 || report.incomplete) log.info("old remote statuses removed", { days, ...report });
  },
});

/** statuses.purge_deleted (scheduler queue, hourly): removes statuses deleted more than PURGE_AFTER_DAYS ago. */
export const purgeDeletedStatusesJob = defineJob({
  name: "statuses.purge_deleted",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 60_000,
  async handler(_payload, context) {
    const report = await purgeDeletedStatuses(context, { days: PURGE_AFTER_DAYS, batchSize: 500, pauseMs: 1000, budgetMs: 5 * 60 * 1000 });
    if (report.purged > 0 || report.incomplete) log.info("deleted statuses purged", { days: PURGE_AFTER_DAYS, ...report });
  },
});
