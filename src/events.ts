/**
 * Who listens to which domain event (see features/events/types.ts). Each subscriber is a job, so a slow or
 * failing subscriber retries on its own without holding up the others. Add yours here.
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

export const SUBSCRIBERS: Subscriber[] = [...timelineSubscribers, ...notificationSubscribers, ...streamingSubscribers, ...cardSubscribers, ...mediaSubscribers, ...reportSubscribers, ...pushSubscribers, ...deliverySubscribers, ...conversationSubscribers, ...pollVoteSubscribers];
