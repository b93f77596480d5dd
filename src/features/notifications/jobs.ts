/**
 * The subscriber that turns domain events into notifications. Safe to run twice: each notification is one
 * row per cause (notifications_once), so a retried job inserts nothing new.
 */
import type { Subscriber } from "../events/publish";
import type { PublishedEvent } from "../events/types";
import type { AppContext } from "../../infra/context";
import { defineJob } from "../../infra/queues/registry";
import { eventSchema } from "../events/schema";
import { hasFavourited, isLiveReblog } from "../interactions/service";
import * as notifications from "./service";


async function onStatusCreated(context: AppContext, statusId: string) {
  const status = await notifications.findStatusForNotifying(context.sql, statusId);
  if (!status || status.reblog_of_id) return;
  const mentioned = await notifications.mentionedLocalAccounts(context.sql, status.id);
  for (const recipientId of mentioned) {
    await notifications.notify(context, {
      recipientId,
      fromAccountId: status.account_id,
      type: "mention",
      statusId: status.id,
      // A direct reply to the recipient's own post is a conversation they started, not a stranger's DM.
      privateMention: status.visibility === "direct" && status.in_reply_to_account_id !== recipientId,
    });
  }
  // "status": followers who rang the bell, for posts they can see in their home feed (not direct, not a
  // reply to someone else); someone already mentioned is not told twice.
  if (status.visibility === "direct") return;
  if (status.in_reply_to_account_id && status.in_reply_to_account_id !== status.account_id) return;
  const told = new Set(mentioned);
  for (const recipientId of await notifications.notifyingFollowers(context.sql, status.account_id)) {
    if (!told.has(recipientId)) await notifications.notify(context, { recipientId, fromAccountId: status.account_id, type: "status", statusId: status.id });
  }
}

async function handle(context: AppContext, event: PublishedEvent) {
  switch (event.type) {
    case "status.created":
      return onStatusCreated(context, event.statusId);
    case "status.reblogged": {
      if (!(await isLiveReblog(context.sql, event.statusId))) return; // undone before this ran
      const original = await notifications.findStatusForNotifying(context.sql, event.reblogOfId);
      // The notification names the boosted status (that is what clients show), from the booster.
      if (original) await notifications.notify(context, { recipientId: original.account_id, fromAccountId: event.accountId, type: "reblog", statusId: original.id });
      return;
    }
    case "status.favourited": {
      if (!(await hasFavourited(context.sql, event.accountId, event.statusId))) return; // undone before this ran
      const status = await notifications.findStatusForNotifying(context.sql, event.statusId);
      if (status) await notifications.notify(context, { recipientId: status.account_id, fromAccountId: event.accountId, type: "favourite", statusId: status.id });
      return;
    }
    case "status.updated": {
      const status = await notifications.findStatusForNotifying(context.sql, event.statusId);
      if (!status) return;
      for (const recipientId of await notifications.localRebloggers(context.sql, status.id)) {
        await notifications.notify(context, { recipientId, fromAccountId: status.account_id, type: "update", statusId: status.id });
      }
      return;
    }
    case "status.deleted": {
      // An undone boost takes its notification with it, as Mastodon's dependent notification does.
      if (!event.reblogOfId) return;
      const original = await notifications.findStatusForNotifying(context.sql, event.reblogOfId);
      if (original) {
        await notifications.forgetNotification(context.sql, { accountId: original.account_id, fromAccountId: event.accountId, type: "reblog", statusId: original.id });
      }
      return;
    }
    case "account.followed":
      await notifications.notify(context, { recipientId: event.targetAccountId, fromAccountId: event.accountId, type: "follow" });
      return;
    case "account.follow_requested":
      await notifications.notify(context, { recipientId: event.targetAccountId, fromAccountId: event.accountId, type: "follow_request" });
      return;
    default:
      return;
  }
}

export const notifyJob = defineJob({
  name: "notifications.from-event",
  queue: "default",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 2000,
  handler: (event, ctx) => handle(ctx, event),
});

/** For src/events.ts. */
export const notificationSubscribers: Subscriber[] = [{ events: [
  "status.created",
  "status.reblogged",
  "status.favourited",
  "status.updated",
  "status.deleted",
  "account.followed",
  "account.follow_requested",
], job: notifyJob,
  // A new post (not a boost) that mentions nobody here, by an author no one here rang the bell for: nobody to tell.
  skipForStatus: (status, event) => event.type === "status.created" && status !== undefined && (status.reblog_of_id !== null || (!status.local_mentions && !status.bell_followers)),
}];
