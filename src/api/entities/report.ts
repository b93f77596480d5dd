/**
 * Mastodon's Report entity, as the reporter sees it (POST /api/v1/reports): ids as strings, the reported
 * account rendered in full, rule ids as the strings /api/v1/instance/rules uses.
 */
import type { AccountWithUser } from "../../features/accounts/service";
import type { ReportRow } from "../../features/reports/service";
import { renderAccount, type AccountEntity } from "./account";

type EntityConfig = Parameters<typeof renderAccount>[0];

export interface ReportEntity {
  id: string;
  action_taken: boolean;
  action_taken_at: string | null;
  category: ReportRow["category"];
  comment: string;
  forwarded: boolean;
  created_at: string;
  status_ids: string[] | null;
  rule_ids: string[] | null;
  target_account: AccountEntity;
}

export function renderReport(config: EntityConfig, report: ReportRow, target: AccountWithUser): ReportEntity {
  return {
    id: report.id,
    action_taken: report.action_taken_at !== null,
    action_taken_at: report.action_taken_at?.toISOString() ?? null,
    category: report.category,
    comment: report.comment,
    forwarded: report.forwarded,
    created_at: report.created_at.toISOString(),
    status_ids: report.status_ids.length > 0 ? report.status_ids.map(String) : null,
    rule_ids: report.rule_ids.length > 0 ? report.rule_ids.map(String) : null,
    target_account: renderAccount(config, target),
  };
}
