/**
 * Forwarding a report to the reported account's server as a Flag (Mastodon's ReportService#forward_to_origin!).
 * The Flag is signed by the instance actor (/actor), never by the reporter: the remote moderators learn that
 * this server reported, not who did — which is also why FED-OUT's per-account delivery is not used here.
 * One POST to the account's (shared) inbox through the SSRF-safe client; network errors, 429 and 5xx are
 * retried by the job, other answers end it.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { defineJob } from "../../infra/queues/registry";
import { findVisibleAccount } from "../accounts/service";
import { postAsInstanceActor } from "../federation/fetch";
import { instanceActorUri } from "../federation/instance-actor";
import { findRemoteByUri } from "../federation/remote-accounts";
import { findVisibleStatus } from "../statuses/service";
import * as store from "./store";

/** Mastodon's ActivityPub::FlagSerializer: the instance actor flags the account and the posts named. */
export function flagActivity(actor: string, report: { uri: string; comment: string }, objects: string[]): Record<string, unknown> {
  return { "@context": "https://www.w3.org/ns/activitystreams", id: report.uri, type: "Flag", actor, content: report.comment, object: objects };
}

export type ForwardOutcome = "delivered" | "refused" | "skipped";

export async function forwardReport(context: AppContext, reportId: string): Promise<ForwardOutcome> {
  const report = await store.findReport(context.sql, reportId);
  if (!report || !report.forwarded || !report.uri) return "skipped";
  const target = await findVisibleAccount(context.sql, report.target_account_id);
  const remote = target?.domain ? await findRemoteByUri(context.sql, target.uri) : undefined;
  const inbox = remote?.shared_inbox_url ?? remote?.inbox_url;
  if (!target || !inbox) return "skipped";
  const statusUris: string[] = [];
  for (const id of report.status_ids) {
    const status = await findVisibleStatus(context.sql, report.account_id, id).catch(() => undefined);
    if (status?.uri) statusUris.push(status.uri);
  }
  const status = await postAsInstanceActor(context, inbox, flagActivity(instanceActorUri(context.config), { uri: report.uri, comment: report.comment }, [target.uri, ...statusUris]));
  if (status === 429 || status >= 500) throw new Error(`${inbox} answered ${status}`);
  return status >= 200 && status < 300 ? "delivered" : "refused";
}

export const reportForwardJob = defineJob({
  name: "reports.forward",
  queue: "push",
  schema: v.object({ reportId: v.pipe(v.string(), v.regex(/^\d{1,19}$/)) }),
  attempts: 8,
  backoffMs: 30_000,
  async handler(payload, ctx) {
    await forwardReport(ctx, payload.reportId);
  },
});
