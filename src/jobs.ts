/**
 * Every job kind the workers know. A feature adds its jobs here when it defines them in its own jobs.ts.
 */
import { authCleanupJob } from "./features/auth/jobs";
import { cleanQueuesJob, probeJob } from "./features/queues/jobs";
import { sendMailJob } from "./features/mail/jobs";
import { processMediaJob, removeOrphansJob } from "./features/media/jobs";
import { JobRegistry } from "./infra/queues/registry";
import { processActivityJob } from "./features/federation/jobs";
import { publishScheduledJob } from "./features/statuses/jobs";
import { feedGraphJob, feedInsertJob, feedRemoveJob } from "./features/timelines/jobs";
import { notifyJob } from "./features/notifications/jobs";
import { streamPublishJob } from "./features/streaming/jobs";

export const jobRegistry = new JobRegistry([probeJob, cleanQueuesJob, sendMailJob, processMediaJob, removeOrphansJob, authCleanupJob, feedInsertJob, feedRemoveJob, feedGraphJob, notifyJob, publishScheduledJob, streamPublishJob, processActivityJob]);
