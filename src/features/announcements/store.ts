/** SQL for announcements (operator-created notices), their dismissals and emoji reactions. */
import type { Db } from "../../infra/db";

export interface AnnouncementRow {
  id: string;
  text: string;
  content: string;
  starts_at: Date | null;
  ends_at: Date | null;
  all_day: boolean;
  published_at: Date;
  updated_at: Date;
}

export interface ReactionCount {
  announcement_id: string;
  name: string;
  count: number;
  me: boolean;
}

/** Active: published and not ended. `accountId` leaves out what that account dismissed, unless `withDismissed`. */
export async function active(db: Db, accountId: string | null, withDismissed: boolean): Promise<(AnnouncementRow & { read: boolean })[]> {
  return db`
    select a.*, exists (select 1 from announcement_dismissals d where d.announcement_id = a.id and d.account_id = ${accountId}) as read
    from announcements a
    where a.published_at <= now() and (a.ends_at is null or a.ends_at > now())
      and (${withDismissed} or not exists (select 1 from announcement_dismissals d where d.announcement_id = a.id and d.account_id = ${accountId}))
    order by a.published_at desc, a.id desc`;
}

export async function all(db: Db): Promise<AnnouncementRow[]> {
  return db<AnnouncementRow[]>`select * from announcements order by id desc`;
}

export async function findActive(db: Db, id: string): Promise<AnnouncementRow | undefined> {
  const [row] = await db<AnnouncementRow[]>`select * from announcements where id = ${id} and published_at <= now() and (ends_at is null or ends_at > now())`;
  return row;
}

export async function insert(db: Db, a: { text: string; content: string; startsAt: Date | null; endsAt: Date | null; allDay: boolean }): Promise<AnnouncementRow> {
  const [row] = await db<AnnouncementRow[]>`
    insert into announcements (text, content, starts_at, ends_at, all_day) values (${a.text}, ${a.content}, ${a.startsAt}, ${a.endsAt}, ${a.allDay})
    returning *`;
  return row!;
}

export async function remove(db: Db, id: string): Promise<boolean> {
  return (await db`delete from announcements where id = ${id} returning id`).length > 0;
}

export async function dismiss(db: Db, id: string, accountId: string): Promise<void> {
  await db`insert into announcement_dismissals (announcement_id, account_id) values (${id}, ${accountId}) on conflict do nothing`;
}

export async function reactions(db: Db, ids: string[], accountId: string | null): Promise<ReactionCount[]> {
  if (ids.length === 0) return [];
  return db<ReactionCount[]>`
    select announcement_id, name, count(*)::int as count, bool_or(account_id = ${accountId}) as me
    from announcement_reactions where announcement_id = any(${ids}::bigint[])
    group by announcement_id, name order by min(created_at), name`;
}

export async function distinctReactionNames(db: Db, id: string): Promise<string[]> {
  const rows = await db<{ name: string }[]>`select distinct name from announcement_reactions where announcement_id = ${id}`;
  return rows.map((r) => r.name);
}

export async function addReaction(db: Db, id: string, accountId: string, name: string): Promise<void> {
  await db`insert into announcement_reactions (announcement_id, account_id, name) values (${id}, ${accountId}, ${name}) on conflict do nothing`;
}

export async function removeReaction(db: Db, id: string, accountId: string, name: string): Promise<void> {
  await db`delete from announcement_reactions where announcement_id = ${id} and account_id = ${accountId} and name = ${name}`;
}

export async function reactionCount(db: Db, id: string, name: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from announcement_reactions where announcement_id = ${id} and name = ${name}`;
  return row!.n;
}
