/**
 * Mastodon's Conversation entity: id, unread, accounts (the other participants), last_status. Rendered for a
 * page at once (statuses and accounts in batch). A conversation whose latest status the viewer can no longer
 * see shows last_status null, as Mastodon does.
 */
import { findVisibleAccounts, type LocalAccountRow } from "../../features/accounts/service";
import type { ConversationRow } from "../../features/conversations/service";
import type { AppContext } from "../../infra/context";
import { renderAccountsWithMoved, type AccountEntity } from "./account";
import { renderStatuses, type StatusEntity } from "./status";

export interface ConversationEntity {
  id: string;
  unread: boolean;
  accounts: AccountEntity[];
  last_status: StatusEntity | null;
}

export async function renderConversations(context: AppContext, viewer: LocalAccountRow, rows: ConversationRow[]): Promise<ConversationEntity[]> {
  const [statuses, accounts] = await Promise.all([
    renderStatuses(context, viewer, [...new Set(rows.map((r) => r.last_status_id))]),
    findVisibleAccounts(context.sql, [...new Set(rows.flatMap((r) => r.participant_account_ids.map(String)))]),
  ]);
  const statusById = new Map(statuses.map((s) => [s.id, s]));
  const accountById = new Map((await renderAccountsWithMoved(context, accounts.filter((a) => a.suspended_at === null))).map((a) => [a.id, a]));
  return rows.map((row) => ({
    id: row.id,
    unread: row.unread,
    accounts: row.participant_account_ids.flatMap((id) => accountById.get(String(id)) ?? []),
    last_status: statusById.get(String(row.last_status_id)) ?? null,
  }));
}
