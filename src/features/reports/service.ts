/**
 * Reports (Mastodon's ReportService): a local user reports an account, optionally with some of its posts
 * (which the reporter must be able to see), a category and, for `violation`, the instance rules broken.
 * Staff (moderators, admins, the owner) hear of it through an `admin.report` notification. Other servers'
 * Flags arrive through createReportFromRemote.
 *
 * With `forward` and a remote account, the report also goes to the account's server as a Flag signed by the
 * instance actor (forward.ts), after the report is stored.
 */
import { findVisibleAccount, type LocalAccountRow } from "../accounts/service";
import { publishEvent } from "../events/publish";
import { getSetting } from "../settings/service";
import { findVisibleStatus, isStatusId } from "../statuses/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { reportForwardJob } from "./forward";
import * as store from "./store";

export type { ReportRow, ReportCategory } from "./store";
export { REPORT_CATEGORIES } from "./store";

export const REPORT_LIMITS = { comment: 1000, remoteComment: 5000, statuses: 100, rules: 50 } as const;

export interface ReportInput {
  accountId: string;
  statusIds: string[];
  comment: string;
  forward: boolean;
  category?: store.ReportCategory;
  ruleIds: string[];
}

export async function createReport(context: AppContext, reporter: LocalAccountRow, input: ReportInput): Promise<store.ReportRow> {
  const target = await findVisibleAccount(context.sql, input.accountId);
  if (!target) throw ApiError.notFound();
  if (input.comment.length > REPORT_LIMITS.comment) throw ApiError.unprocessable(`Validation failed: Comment is too long (maximum is ${REPORT_LIMITS.comment} characters)`);

  // Every status must be the target's and visible to the reporter; one that is not makes the whole report 404,
  // as Mastodon's find(ids) does (and nothing is written).
  const statusIds = [...new Set(input.statusIds)];
  for (const id of statusIds) {
    if (!isStatusId(id)) throw ApiError.notFound();
    const status = await findVisibleStatus(context.sql, reporter.id, id);
    if (status.account_id !== target.id) throw ApiError.notFound();
  }

  const ruleIds = [...new Set(input.ruleIds)];
  const category = input.category ?? "other";
  if (category !== "violation" && ruleIds.length > 0) throw ApiError.unprocessable("Validation failed: Rule ids must be blank");
  let rules: number[] = [];
  if (category === "violation") {
    const count = (await getSetting(context.sql, "rules")).length;
    rules = ruleIds.map(Number);
    const valid = rules.every((n) => Number.isInteger(n) && n >= 1 && n <= count);
    if (rules.length === 0 || !valid) throw ApiError.unprocessable("Validation failed: Rule ids does not reference valid rules");
  }

  // Mastodon's forward_to_origin?: only a remote account's server can be told.
  const forward = input.forward && target.domain !== null;
  const report = await store.insertReport(context.sql, {
    accountId: reporter.id,
    targetAccountId: target.id,
    statusIds,
    ruleIds: rules,
    comment: input.comment,
    category,
    forwarded: forward,
    // The Flag's id (like Mastodon's, an opaque URI under this server).
    uri: forward ? `${context.config.baseUrl}/${crypto.randomUUID()}` : undefined,
  });
  await publishEvent(context, { type: "report.created", reportId: report.id, accountId: reporter.id, targetAccountId: target.id });
  if (forward) await context.queues.enqueue(reportForwardJob, { reportId: report.id }, { jobId: `reports.forward-${report.id}` });
  return report;
}

export interface RemoteReportInput {
  /** The Flag activity's id. */
  uri: string;
  /** The account the Flag came from (usually the remote instance's actor). */
  reporterAccountId: string;
  /** The local account reported. */
  targetAccountId: string;
  /** Local statuses named in the Flag; ids not belonging to the target are dropped. */
  statusIds: string[];
  comment: string;
}

/**
 * For the federation inbox's Flag handler: store another server's report about one of our accounts, once per
 * Flag id (a redelivered Flag changes nothing and notifies nobody again). Statuses not by the target are
 * dropped rather than refused: the remote server's view may be older than ours. Returns the report and
 * whether it was new.
 */
export async function createReportFromRemote(context: AppContext, input: RemoteReportInput): Promise<{ report: store.ReportRow; created: boolean }> {
  const statusIds = [...new Set(input.statusIds.filter(isStatusId))].slice(0, REPORT_LIMITS.statuses);
  const own = new Set<string>();
  for (const id of statusIds) {
    const status = await findVisibleStatus(context.sql, input.reporterAccountId, id).catch(() => undefined);
    if (status && status.account_id === input.targetAccountId) own.add(id);
  }
  const { row, created } = await store.insertRemoteReport(context.sql, {
    uri: input.uri,
    accountId: input.reporterAccountId,
    targetAccountId: input.targetAccountId,
    statusIds: [...own],
    ruleIds: [],
    comment: input.comment.slice(0, REPORT_LIMITS.remoteComment),
    category: "other",
    forwarded: false,
  });
  if (created) await publishEvent(context, { type: "report.created", reportId: row.id, accountId: input.reporterAccountId, targetAccountId: input.targetAccountId });
  return { report: row, created };
}

export const findReport = store.findReport;
export const staffAccountIds = store.staffAccountIds;
