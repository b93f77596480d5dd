/**
 * Who listens to which domain event (see features/events/types.ts). An event's subscribers on one queue run
 * in one job, each guarded by its own mark; a failing one retries on its own as its own job without
 * re-running the others (features/events/publish.ts). Add yours here.
 */
import type { Subscriber } from "./features/events/publish";
import { timelineSubscribers } from "./features/timelines/jobs";
import { notificationSubscribers } from "./features/notifications/jobs";
import { streamingSubscribers } from "./features/streaming/jobs";
import { cardSubscribers } from "./features/cards/jobs";
import { mediaSubscribers } from "./features/media/jobs";
import { reportSubscribers } from "./features/reports/jobs";
import { pushSubscribers } from "./features/push/jobs";
import { deliverySubscribers } from "./features/federation/delivery";
import { conversationSubscribers } from "./features/conversations/jobs";
import { pollVoteSubscribers } from "./features/federation/poll-votes";
import { nothingToDeliver } from "./features/federation/jobs";

export const SUBSCRIBERS: Subscriber[] = [...timelineSubscribers, ...notificationSubscribers, ...streamingSubscribers, ...cardSubscribers, ...mediaSubscribers, ...reportSubscribers, ...pushSubscribers, ...deliverySubscribers.map((s) => ({ ...s, skip: nothingToDeliver })), ...conversationSubscribers, ...pollVoteSubscribers];
