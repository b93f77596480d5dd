/** SQL for reports: one row per report, local (API) or remote (Flag, keyed by its uri). */
import type { Db } from "../../infra/db";

export const REPORT_CATEGORIES = ["spam", "legal", "violation", "other"] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];

export interface ReportRow {
  id: string;
  account_id: string;
  target_account_id: string;
  status_ids: string[];
  rule_ids: number[];
  comment: string;
  category: ReportCategory;
  forwarded: boolean;
  uri: string | null;
  action_taken_at: Date | null;
  created_at: Date;
}

const COLUMNS = "id, account_id, target_account_id, status_ids::text[] as status_ids, rule_ids, comment, category, forwarded, uri, action_taken_at, created_at";

export interface NewReport {
  accountId: string;
  targetAccountId: string;
  statusIds: string[];
  ruleIds: number[];
  comment: string;
  category: ReportCategory;
  forwarded: boolean;
  uri?: string;
}

export async function insertReport(db: Db, r: NewReport): Promise<ReportRow> {
  const [row] = await db<ReportRow[]>`
    insert into reports (account_id, target_account_id, status_ids, rule_ids, comment, category, forwarded, uri)
    values (${r.accountId}, ${r.targetAccountId}, ${r.statusIds}::bigint[], ${r.ruleIds}::integer[], ${r.comment}, ${r.category}, ${r.forwarded}, ${r.uri ?? null})
    returning ${db.unsafe(COLUMNS)}`;
  return row!;
}

/** A remote report is stored once per Flag id, however often the Flag arrives. */
export async function insertRemoteReport(db: Db, r: NewReport & { uri: string }): Promise<{ row: ReportRow; created: boolean }> {
  const [inserted] = await db<ReportRow[]>`
    insert into reports (account_id, target_account_id, status_ids, rule_ids, comment, category, forwarded, uri)
    values (${r.accountId}, ${r.targetAccountId}, ${r.statusIds}::bigint[], ${r.ruleIds}::integer[], ${r.comment}, ${r.category}, false, ${r.uri})
    on conflict (uri) do nothing
    returning ${db.unsafe(COLUMNS)}`;
  if (inserted) return { row: inserted, created: true };
  const [existing] = await db<ReportRow[]>`select ${db.unsafe(COLUMNS)} from reports where uri = ${r.uri}`;
  return { row: existing!, created: false };
}

export async function findReport(db: Db, id: string): Promise<ReportRow | undefined> {
  const [row] = await db<ReportRow[]>`select ${db.unsafe(COLUMNS)} from reports where id = ${id}`;
  return row;
}

/**
 * The local staff who hear about reports (Mastodon: users who may manage reports), enabled and not
 * suspended. A narrow read of the accounts feature's tables, as its service has no such query yet.
 */
export async function staffAccountIds(db: Db): Promise<string[]> {
  const rows = await db<{ account_id: string }[]>`
    select u.account_id from users u join accounts a on a.id = u.account_id
    where u.role in ('Moderator', 'Admin', 'Owner') and not u.disabled and u.confirmed_at is not null and a.suspended_at is null`;
  return rows.map((r) => r.account_id);
}
