/**
 * The moderators' side of reports (the reports feature files them): list with filters, assign, resolve,
 * reopen, recategorise. The moderation columns of `reports` (assigned_account_id, action_taken_*) exist
 * for this work (migration 0016); their SQL lives here with the rest of moderation.
 */
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { isAccountId as isBigintId } from "../accounts/service";
import { REPORT_CATEGORIES, type ReportCategory } from "../reports/service";

export interface AdminReportRow {
  id: string;
  account_id: string;
  target_account_id: string;
  assigned_account_id: string | null;
  action_taken_by_account_id: string | null;
  status_ids: string[];
  rule_ids: number[];
  comment: string;
  category: ReportCategory;
  forwarded: boolean;
  action_taken_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, account_id, target_account_id, assigned_account_id, action_taken_by_account_id, status_ids::text[] as status_ids,
  rule_ids, comment, category, forwarded, action_taken_at, created_at, updated_at`;

export interface ReportFilter {
  resolved?: boolean;
  accountId?: string;
  targetAccountId?: string;
}

export async function listReports(db: Db, filter: ReportFilter, page: { where: unknown; order: unknown; limit: number }): Promise<AdminReportRow[]> {
  const conditions = [db`true`];
  if (filter.resolved === true) conditions.push(db`x.action_taken_at is not null`);
  if (filter.resolved === false) conditions.push(db`x.action_taken_at is null`);
  if (filter.accountId) conditions.push(db`x.account_id = ${filter.accountId}`);
  if (filter.targetAccountId) conditions.push(db`x.target_account_id = ${filter.targetAccountId}`);
  const where = conditions.reduce((a, b) => db`${a} and ${b}`);
  return db<AdminReportRow[]>`
    select ${db.unsafe(COLUMNS)} from reports x where ${where} and ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

export async function findReport(db: Db, id: string): Promise<AdminReportRow> {
  if (!isBigintId(id)) throw ApiError.notFound();
  const [row] = await db<AdminReportRow[]>`select ${db.unsafe(COLUMNS)} from reports where id = ${id}`;
  if (!row) throw ApiError.notFound();
  return row;
}

export type ReportChange =
  | { kind: "assign"; accountId: string }
  | { kind: "unassign" }
  | { kind: "resolve"; accountId: string }
  | { kind: "reopen" }
  | { kind: "update"; category?: ReportCategory; ruleIds?: number[] };

export async function changeReport(db: Db, id: string, change: ReportChange): Promise<AdminReportRow> {
  const report = await findReport(db, id);
  if (change.kind === "update" && change.ruleIds !== undefined && (change.category ?? report.category) !== "violation" && change.ruleIds.length > 0) {
    throw ApiError.unprocessable("Validation failed: Rule ids can only be set for violations");
  }
  const set = {
    assign: () => db`assigned_account_id = ${(change as { accountId: string }).accountId}`,
    unassign: () => db`assigned_account_id = null`,
    resolve: () => db`action_taken_at = coalesce(action_taken_at, now()), action_taken_by_account_id = coalesce(action_taken_by_account_id, ${(change as { accountId: string }).accountId})`,
    reopen: () => db`action_taken_at = null, action_taken_by_account_id = null`,
    update: () => {
      const c = change as { category?: ReportCategory; ruleIds?: number[] };
      const category = c.category ?? report.category;
      // Rules belong to violations only: changing the category away from violation drops them.
      const ruleIds = category === "violation" ? (c.ruleIds ?? report.rule_ids) : [];
      return db`category = ${category}, rule_ids = ${ruleIds}::integer[]`;
    },
  }[change.kind]();
  const [row] = await db<AdminReportRow[]>`update reports set ${set}, updated_at = now() where id = ${report.id} returning ${db.unsafe(COLUMNS)}`;
  return row!;
}

export { REPORT_CATEGORIES };
