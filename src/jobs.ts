/**
 * Every job kind the workers know. A feature adds its jobs here when it defines them in its own jobs.ts.
 */
import { authCleanupJob } from "./features/auth/jobs";
import { cleanQueuesJob, probeJob } from "./features/queues/jobs";
import { sendMailJob } from "./features/mail/jobs";
import { evictRemoteCacheJob, planEagerFetchJob, processMediaJob, removeOrphansJob, warmRemoteJob } from "./features/media/jobs";
import { JobRegistry } from "./infra/queues/registry";
import { fetchParentJob, processActivityJob } from "./features/federation/jobs";
import { synchronizeFollowersJob } from "./features/federation/followers-sync";
import { relayIngestJob } from "./features/relays/inbound";
import { publishScheduledJob } from "./features/statuses/jobs";
import { closeExpiredPollsJob } from "./features/polls/jobs";
import { conversationsJob } from "./features/conversations/jobs";
import { feedGraphJob, feedInsertJob, feedRemoveJob } from "./features/timelines/jobs";
import { notifyJob } from "./features/notifications/jobs";
import { streamPublishJob } from "./features/streaming/jobs";
import { cardFetchJob, cardLinkJob } from "./features/cards/jobs";
import { reportNotifyStaffJob } from "./features/reports/jobs";
import { reportForwardJob } from "./features/reports/forward";
import { webPushDeliverJob, webPushFanOutJob } from "./features/push/jobs";
import { deliverJob } from "./features/federation/delivery-jobs";
import { deliverEventJob } from "./features/federation/delivery";
import { refreshTrendsJob } from "./features/trends/jobs";
import { purgeDomainJob } from "./features/admin/jobs";
import { sendPollVotesJob } from "./features/federation/poll-votes";
import { contentRetentionJob, purgeDeletedStatusesJob } from "./features/retention/jobs";
import { archiveRetentionJob, buildArchiveJob } from "./features/archives/jobs";
import { eventJobs } from "./features/events/publish";

export const jobRegistry = new JobRegistry([probeJob, cleanQueuesJob, sendMailJob, processMediaJob, removeOrphansJob, evictRemoteCacheJob, planEagerFetchJob, warmRemoteJob, authCleanupJob, feedInsertJob, feedRemoveJob, feedGraphJob, notifyJob, publishScheduledJob, closeExpiredPollsJob, conversationsJob, streamPublishJob, processActivityJob, fetchParentJob, synchronizeFollowersJob, relayIngestJob, cardLinkJob, cardFetchJob, reportNotifyStaffJob, reportForwardJob, webPushFanOutJob, webPushDeliverJob, deliverEventJob, deliverJob, sendPollVotesJob, refreshTrendsJob, purgeDomainJob, contentRetentionJob, purgeDeletedStatusesJob, buildArchiveJob, archiveRetentionJob, ...eventJobs]);
