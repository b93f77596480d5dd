/**
 * A new report notifies the local staff (`admin.report`, Mastodon's AdminMailer/notification for
 * manage_reports users), never the reporter or the reported account themselves. Safe to run twice: one
 * notification per cause (notifications_once).
 */
import type { Subscriber } from "../events/publish";
import type { EventOf } from "../events/types";
import { eventSchema } from "../events/schema";
import { notify } from "../notifications/service";
import { defineJob } from "../../infra/queues/registry";
import { staffAccountIds } from "./service";

export const reportNotifyStaffJob = defineJob({
  name: "reports.notify_staff",
  queue: "default",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 1000,
  async handler(event, ctx) {
    const e = event as unknown as EventOf<"report.created">;
    for (const staffId of await staffAccountIds(ctx.sql)) {
      if (staffId === e.targetAccountId) continue;
      await notify(ctx, { recipientId: staffId, fromAccountId: e.accountId, type: "admin.report" });
    }
  },
});

export const reportSubscribers: Subscriber[] = [{ events: ["report.created"], job: reportNotifyStaffJob }];
