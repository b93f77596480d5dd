/**
 * Who listens to which domain event (see features/events/types.ts). Each subscriber is a job, so a slow or
 * failing subscriber retries on its own without holding up the others. Add yours here.
 */
import type { Subscriber } from "./features/events/publish";
import { timelineSubscribers } from "./features/timelines/jobs";
import { notificationSubscribers } from "./features/notifications/jobs";
import { streamingSubscribers } from "./features/streaming/jobs";

export const SUBSCRIBERS: Subscriber[] = [...timelineSubscribers, ...notificationSubscribers, ...streamingSubscribers];
