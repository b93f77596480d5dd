/**
 * Recurring jobs, declared in one place. The scheduler role fires each one at most once per period across
 * the whole cluster: a Redis SET NX on the key for the current period is the lock, and the BullMQ job id
 * is derived from the period too, so even a lost lock cannot enqueue a tick twice.
 */
import type { JobDefinition } from "../infra/queues/registry";
import { authCleanupJob } from "../features/auth/jobs";
import { cleanQueuesJob } from "../features/queues/jobs";
import { evictRemoteCacheJob, removeOrphansJob } from "../features/media/jobs";
import { publishScheduledJob } from "../features/statuses/jobs";
import { closeExpiredPollsJob } from "../features/polls/jobs";
import { refreshTrendsJob } from "../features/trends/jobs";
import { contentRetentionJob, purgeDeletedStatusesJob } from "../features/retention/jobs";
import { archiveRetentionJob } from "../features/archives/jobs";

export interface Recurring {
  name: string;
  everyMs: number;
  job: JobDefinition<any>;
  payload: () => unknown;
}

export const RECURRING: Recurring[] = [
  { name: "queues.clean", everyMs: 60 * 60 * 1000, job: cleanQueuesJob, payload: () => ({}) },
  { name: "auth.cleanup", everyMs: 60 * 60 * 1000, job: authCleanupJob, payload: () => ({}) },
  { name: "media.remove_orphans", everyMs: 60 * 60 * 1000, job: removeOrphansJob, payload: () => ({}) },
  { name: "media.evict_remote_cache", everyMs: 60 * 60 * 1000, job: evictRemoteCacheJob, payload: () => ({}) },
  { name: "statuses.publish_scheduled", everyMs: 60 * 1000, job: publishScheduledJob, payload: () => ({}) },
  { name: "polls.close_expired", everyMs: 60 * 1000, job: closeExpiredPollsJob, payload: () => ({}) },
  { name: "trends.refresh", everyMs: 5 * 60 * 1000, job: refreshTrendsJob, payload: () => ({}) },
  { name: "content.retention", everyMs: 60 * 60 * 1000, job: contentRetentionJob, payload: () => ({}) },
  { name: "statuses.purge_deleted", everyMs: 60 * 60 * 1000, job: purgeDeletedStatusesJob, payload: () => ({}) },
  { name: "archives.retention", everyMs: 60 * 60 * 1000, job: archiveRetentionJob, payload: () => ({}) },
];
