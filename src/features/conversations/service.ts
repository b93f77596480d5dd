/**
 * Direct-message conversations: kept up to date by subscribers of status.created / status.deleted (jobs.ts),
 * read, marked read and removed through the API. Each participant's new or changed conversation is announced
 * on their `direct` stream as a `conversation` event.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { isStatusId } from "../statuses/service";
import { directChannel } from "../streaming/channels";
import * as store from "./store";

export type { ConversationRow } from "./store";

/** The stream message for one participant's conversation (the streaming role renders it for them). */
export interface ConversationMessage {
  event: "conversation";
  statusId: string;
  accountConversationId: string;
  ref: string;
}

export async function statusCreated(context: AppContext, statusId: string, ref: string): Promise<void> {
  const rows = await context.sql.begin((tx) => store.addStatus(tx, statusId));
  if (rows.length === 0) return;
  const ns = context.config.redis.namespace;
  const pipeline = context.redis.pipeline();
  for (const row of rows) {
    const message: ConversationMessage = { event: "conversation", statusId: row.last_status_id, accountConversationId: row.id, ref };
    pipeline.publish(directChannel(ns, row.account_id), JSON.stringify(message));
  }
  await pipeline.exec();
}

export async function statusDeleted(context: AppContext, statusId: string): Promise<void> {
  await store.removeStatus(context.sql, statusId);
}

export const conversationPage = store.page;

export async function findConversation(sql: Db, accountId: string, id: string): Promise<store.ConversationRow> {
  const row = isStatusId(id) ? await store.find(sql, accountId, id) : undefined;
  if (!row) throw ApiError.notFound();
  return row;
}

export async function markRead(sql: Db, accountId: string, id: string, unread = false): Promise<store.ConversationRow> {
  const row = await findConversation(sql, accountId, id);
  await store.markRead(sql, accountId, row.id, unread);
  return { ...row, unread };
}

export async function removeConversation(sql: Db, accountId: string, id: string): Promise<void> {
  if (!isStatusId(id) || !(await store.remove(sql, accountId, id))) throw ApiError.notFound();
}
