/**
 * Mastodon's Notification (v1) and GroupedNotificationsResults (v2) entities. Accounts and statuses are
 * loaded in batch for a whole page; a notification or group whose status the viewer can no longer see (or
 * whose account is gone or hidden) is dropped rather than shown half.
 */
import { findVisibleAccounts, type LocalAccountRow } from "../../features/accounts/service";
import type { GroupRow, NotificationRow, RequestRow } from "../../features/notifications/service";
import type { AppContext } from "../../infra/context";
import { renderAccountsWithMoved, type AccountEntity } from "./account";
import { renderStatuses, type StatusEntity } from "./status";

export interface NotificationEntity {
  id: string;
  type: string;
  created_at: string;
  group_key: string;
  account: AccountEntity;
  status?: StatusEntity;
  filtered?: boolean;
}

export interface NotificationGroupEntity {
  group_key: string;
  notifications_count: number;
  type: string;
  // Sent as a string like every id (a 64-bit id does not fit a JSON number read by JavaScript clients).
  most_recent_notification_id: string;
  page_min_id?: string;
  page_max_id?: string;
  latest_page_notification_at?: string;
  sample_account_ids: string[];
  status_id?: string;
}

export interface GroupedNotificationsResults {
  accounts: AccountEntity[];
  statuses: StatusEntity[];
  notification_groups: NotificationGroupEntity[];
}

/** Sample accounts per group, as Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE. */
const SAMPLE_ACCOUNTS = 8;

async function loadParts(context: AppContext, viewer: LocalAccountRow, accountIds: string[], statusIds: string[]) {
  const [accounts, statuses] = await Promise.all([
    findVisibleAccounts(context.sql, [...new Set(accountIds)]),
    renderStatuses(context, viewer, [...new Set(statusIds)]),
  ]);
  const entities = await renderAccountsWithMoved(context, accounts);
  return {
    accounts: new Map(entities.map((a) => [a.id, a])),
    statuses: new Map(statuses.map((s) => [s.id, s])),
  };
}

export async function renderNotifications(context: AppContext, viewer: LocalAccountRow, rows: NotificationRow[]): Promise<NotificationEntity[]> {
  const parts = await loadParts(
    context,
    viewer,
    rows.map((n) => n.from_account_id),
    rows.flatMap((n) => (n.status_id ? [n.status_id] : [])),
  );
  const out: NotificationEntity[] = [];
  for (const n of rows) {
    const account = parts.accounts.get(n.from_account_id);
    const status = n.status_id ? parts.statuses.get(n.status_id) : undefined;
    if (!account || (n.status_id && !status)) continue;
    const entity: NotificationEntity = { id: n.id, type: n.type, created_at: n.created_at.toISOString(), group_key: n.group_key, account };
    if (status) entity.status = status;
    if (n.filtered) entity.filtered = true;
    out.push(entity);
  }
  return out;
}

/** Groups in the order given; `paged` adds the page_* fields (list pages, not a single group). */
export async function renderGroups(context: AppContext, viewer: LocalAccountRow, groups: GroupRow[], paged: boolean): Promise<GroupedNotificationsResults> {
  const samples = new Map(groups.map((g) => [g.group_key, [...new Set(g.account_ids)].slice(0, SAMPLE_ACCOUNTS)]));
  const parts = await loadParts(
    context,
    viewer,
    [...samples.values()].flat(),
    groups.flatMap((g) => (g.status_id ? [g.status_id] : [])),
  );
  const notificationGroups: NotificationGroupEntity[] = [];
  const accountIds = new Set<string>();
  const statusIds = new Set<string>();
  for (const g of groups) {
    const sample = samples.get(g.group_key)!.filter((id) => parts.accounts.has(id));
    if (sample.length === 0 || (g.status_id && !parts.statuses.has(g.status_id))) continue;
    const entity: NotificationGroupEntity = {
      group_key: g.group_key,
      notifications_count: g.notifications_count,
      type: g.type,
      most_recent_notification_id: g.most_recent_notification_id,
      sample_account_ids: sample,
    };
    if (paged) {
      entity.page_min_id = g.page_min_id ?? g.most_recent_notification_id;
      entity.page_max_id = g.page_max_id ?? g.most_recent_notification_id;
      if (g.latest_page_notification_at) entity.latest_page_notification_at = g.latest_page_notification_at.toISOString();
    }
    if (g.status_id) {
      entity.status_id = g.status_id;
      statusIds.add(g.status_id);
    }
    for (const id of sample) accountIds.add(id);
    notificationGroups.push(entity);
  }
  return {
    accounts: [...accountIds].map((id) => parts.accounts.get(id)!),
    statuses: [...statusIds].map((id) => parts.statuses.get(id)!),
    notification_groups: notificationGroups,
  };
}

export interface NotificationRequestEntity {
  id: string;
  created_at: string;
  updated_at: string;
  account: AccountEntity;
  // A string in Mastodon's serializer too.
  notifications_count: string;
  last_status?: StatusEntity;
}

export async function renderRequests(context: AppContext, viewer: LocalAccountRow, rows: RequestRow[]): Promise<NotificationRequestEntity[]> {
  const parts = await loadParts(
    context,
    viewer,
    rows.map((r) => r.from_account_id),
    rows.flatMap((r) => (r.last_status_id ? [r.last_status_id] : [])),
  );
  const out: NotificationRequestEntity[] = [];
  for (const r of rows) {
    const account = parts.accounts.get(r.from_account_id);
    if (!account) continue;
    const entity: NotificationRequestEntity = {
      id: r.id,
      created_at: r.created_at.toISOString(),
      updated_at: r.updated_at.toISOString(),
      account,
      notifications_count: String(r.notifications_count),
    };
    const status = r.last_status_id ? parts.statuses.get(r.last_status_id) : undefined;
    if (status) entity.last_status = status;
    out.push(entity);
  }
  return out;
}
