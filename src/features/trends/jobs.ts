/**
 * Trends jobs.
 * - trends.refresh (scheduler, every 5 minutes like Mastodon's Trends::RefreshScheduler): recompute tag
 *   history and trending tags, statuses and links. Safe to run twice: each run rewrites the tables whole.
 */
import * as v from "valibot";
import { defineJob } from "../../infra/queues/registry";
import { refreshTrends } from "./service";

export const refreshTrendsJob = defineJob({
  name: "trends.refresh",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 2,
  backoffMs: 30_000,
  async handler(_payload, context) {
    await refreshTrends(context);
  },
});
