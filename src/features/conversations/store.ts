/**
 * SQL for direct-message conversations (Mastodon's AccountConversation): one row per participant and
 * thread, holding the other participants, the latest status and whether it is unread. Paged by the latest
 * status id, as Mastodon pages them.
 */
import type { Db } from "../../infra/db";

export interface ConversationRow {
  id: string;
  account_id: string;
  conversation_id: string;
  participant_account_ids: string[];
  last_status_id: string;
  unread: boolean;
}

/**
 * Record a direct status in its thread for its local author and every local account it mentions: the
 * others in the thread join the participants, the status becomes the latest (never going back to an older
 * one when jobs run out of order), unread for everyone but its author. Returns the rows touched.
 */
export async function addStatus(db: Db, statusId: string): Promise<ConversationRow[]> {
  // A remote post that starts a thread arrives without a conversation (federation stores none for roots);
  // a direct one gets one here, which its replies then inherit from it.
  const [orphan] = await db`
    select 1 from statuses where id = ${statusId} and conversation_id is null and visibility = 'direct' and reblog_of_id is null`;
  if (orphan) {
    const [conversation] = await db<{ id: string }[]>`insert into conversations default values returning id`;
    await db`update statuses set conversation_id = ${conversation!.id} where id = ${statusId} and conversation_id is null`;
  }
  return db<ConversationRow[]>`
    with s as (
      select s.id, s.account_id, s.conversation_id from statuses s
      where s.id = ${statusId} and s.visibility = 'direct' and s.reblog_of_id is null and s.deleted_at is null and s.conversation_id is not null
    ),
    everyone as (
      select s.account_id as id from s
      union select m.account_id from mentions m join s on m.status_id = s.id
    ),
    locals as (
      select e.id from everyone e join accounts a on a.id = e.id where a.domain is null
    )
    insert into account_conversations (account_id, conversation_id, participant_account_ids, last_status_id, unread)
    select l.id, s.conversation_id, coalesce((select array_agg(e.id order by e.id) from everyone e where e.id <> l.id), '{}'), s.id, l.id <> s.account_id
    from locals l, s
    on conflict (account_id, conversation_id) do update set
      participant_account_ids = (select coalesce(array_agg(distinct x order by x), '{}') from unnest(account_conversations.participant_account_ids || excluded.participant_account_ids) x),
      last_status_id = greatest(account_conversations.last_status_id, excluded.last_status_id),
      unread = case when excluded.last_status_id >= account_conversations.last_status_id then excluded.unread else account_conversations.unread end,
      updated_at = now()
    returning id, account_id, conversation_id, participant_account_ids, last_status_id, unread`;
}

/**
 * A deleted status stops being the latest of the conversations that showed it: the latest remaining direct
 * status the participant wrote or was mentioned in takes its place, or the row goes when none is left.
 */
export async function removeStatus(db: Db, statusId: string): Promise<void> {
  const rows = await db<{ id: string; account_id: string; conversation_id: string }[]>`
    select id, account_id, conversation_id from account_conversations where last_status_id = ${statusId}`;
  for (const row of rows) {
    const [latest] = await db<{ id: string }[]>`
      select s.id from statuses s
      where s.conversation_id = ${row.conversation_id} and s.visibility = 'direct' and s.deleted_at is null and s.reblog_of_id is null
        and (s.account_id = ${row.account_id} or exists (select 1 from mentions m where m.status_id = s.id and m.account_id = ${row.account_id}))
      order by s.id desc limit 1`;
    if (latest) await db`update account_conversations set last_status_id = ${latest.id}, updated_at = now() where id = ${row.id}`;
    else await db`delete from account_conversations where id = ${row.id}`;
  }
}

export async function page(
  db: Db,
  accountId: string,
  where: { where: ReturnType<Db["unsafe"]> | any; order: any; limit: number },
): Promise<ConversationRow[]> {
  return db<ConversationRow[]>`
    select c.id, c.account_id, c.conversation_id, c.participant_account_ids::text[] as participant_account_ids, c.last_status_id, c.unread
    from account_conversations c
    where c.account_id = ${accountId} and ${where.where}
    order by ${where.order} limit ${where.limit}`;
}

export async function find(db: Db, accountId: string, id: string): Promise<ConversationRow | undefined> {
  const [row] = await db<ConversationRow[]>`
    select id, account_id, conversation_id, participant_account_ids::text[] as participant_account_ids, last_status_id, unread
    from account_conversations where account_id = ${accountId} and id = ${id}`;
  return row;
}

export async function markRead(db: Db, accountId: string, id: string, unread = false): Promise<void> {
  await db`update account_conversations set unread = ${unread}, updated_at = now() where account_id = ${accountId} and id = ${id}`;
}

export async function remove(db: Db, accountId: string, id: string): Promise<boolean> {
  const rows = await db`delete from account_conversations where account_id = ${accountId} and id = ${id} returning id`;
  return rows.length > 0;
}
