/** Admin::Report: the report with both accounts as Admin::Account, the reported posts and the broken rules. */
import type { AdminReportRow } from "../../../features/admin/reports";
import * as admin from "../../../features/admin/service";
import type { LocalAccountRow } from "../../../features/accounts/service";
import type { Rule } from "../../../features/settings/definitions";
import type { AppContext } from "../../../infra/context";
import { renderRules } from "../instance";
import { renderStatuses } from "../status";
import { renderAdminAccounts } from "./account";

export async function renderAdminReports(context: AppContext, viewer: LocalAccountRow, reports: AdminReportRow[], rules: Rule[]) {
  const accountIds = [...new Set(reports.flatMap((r) => [r.account_id, r.target_account_id, r.assigned_account_id, r.action_taken_by_account_id]).filter((id): id is string => !!id))];
  const accounts = new Map((await renderAdminAccounts(context, await admin.listAccountsByIds(context.sql, accountIds))).map((entity) => [entity.id, entity]));
  const allRules = renderRules(rules);
  return Promise.all(
    reports.map(async (report) => ({
      id: report.id,
      action_taken: report.action_taken_at !== null,
      action_taken_at: report.action_taken_at?.toISOString() ?? null,
      category: report.category,
      comment: report.comment,
      forwarded: report.forwarded,
      created_at: report.created_at.toISOString(),
      updated_at: report.updated_at.toISOString(),
      account: accounts.get(report.account_id)!,
      target_account: accounts.get(report.target_account_id)!,
      assigned_account: report.assigned_account_id ? (accounts.get(report.assigned_account_id) ?? null) : null,
      action_taken_by_account: report.action_taken_by_account_id ? (accounts.get(report.action_taken_by_account_id) ?? null) : null,
      // Rendered as the moderator sees them: posts they may not see (direct messages of others) are left out.
      statuses: await renderStatuses(context, viewer, report.status_ids),
      rules: allRules.filter((rule) => report.rule_ids.includes(Number(rule.id))),
    })),
  );
}
