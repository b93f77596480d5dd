/**
 * Web Push on the `push` queue: a subscriber of `notification.created` picks the subscriptions that want it
 * and enqueues one `webpush.deliver` per subscription, so one slow push service does not hold up the others
 * and each retries on its own (Mastodon's Web::PushNotificationWorker, 5 tries).
 */
import * as v from "valibot";
import type { Subscriber } from "../events/publish";
import type { EventOf } from "../events/types";
import { eventSchema } from "../events/schema";
import { defineJob } from "../../infra/queues/registry";
import { deliverPush, recipientsOf } from "./service";

const id = v.pipe(v.string(), v.regex(/^\d{1,19}$/));

export const webPushDeliverJob = defineJob({
  name: "webpush.deliver",
  queue: "push",
  schema: v.object({ subscriptionId: id, notificationId: id }),
  attempts: 5,
  backoffMs: 10_000,
  async handler(payload, ctx) {
    await deliverPush(ctx, payload.subscriptionId, payload.notificationId);
  },
});

export const webPushFanOutJob = defineJob({
  name: "webpush.fan_out",
  queue: "push",
  schema: eventSchema,
  attempts: 3,
  backoffMs: 2_000,
  async handler(event, ctx) {
    const e = event as unknown as EventOf<"notification.created">;
    for (const subscriptionId of await recipientsOf(ctx, e.accountId, e.notificationId)) {
      await ctx.queues.enqueue(webPushDeliverJob, { subscriptionId, notificationId: e.notificationId }, { jobId: `webpush-${e.notificationId}-${subscriptionId}` });
    }
  },
});

export const pushSubscribers: Subscriber[] = [{ events: ["notification.created"], job: webPushFanOutJob }];
