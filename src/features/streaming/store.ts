/**
 * SQL for publishing stream events. Reads tables other features own (statuses, follows, blocks, mutes,
 * mentions, tags) read-only, once per event — never per connected client.
 */
import type { Db } from "../../infra/db";

export interface StreamStatusFacts {
  id: string;
  account_id: string;
  visibility: "public" | "unlisted" | "private" | "direct";
  reblog_of_id: string | null;
  /** The author is a local account. */
  local: boolean;
  has_media: boolean;
  /** Lower-cased tag names. */
  tags: string[];
  /** Local accounts the status mentions. */
  mentioned: string[];
}

/** Facts about a status, deleted or not (a delete still needs to know where the status went). */
export async function statusFacts(db: Db, statusId: string): Promise<StreamStatusFacts | undefined> {
  const [row] = await db<StreamStatusFacts[]>`
    select s.id, s.account_id, s.visibility, s.reblog_of_id, a.domain is null as local,
      exists (select 1 from media_attachments m where m.status_id = coalesce(s.reblog_of_id, s.id)) as has_media,
      coalesce((select json_agg(t.name) from statuses_tags st join tags t on t.id = st.tag_id where st.status_id = s.id), '[]'::json) as tags,
      coalesce((select json_agg(m.account_id::text) from mentions m join accounts ma on ma.id = m.account_id and ma.domain is null
                where m.status_id = s.id), '[]'::json) as mentioned
    from statuses s join accounts a on a.id = s.account_id
    where s.id = ${statusId}`;
  return row;
}

/**
 * The local accounts (author excluded) whose `user` stream gets the status, as the home feed would: followers
 * (boosts only with show_reblogs), the mentioned for private and direct posts, followers of its tags for
 * public posts — minus those who block, mute or are blocked by the author (or the boosted original's author).
 */
export async function homeRecipients(db: Db, statusId: string, among?: string[]): Promise<string[]> {
  if (among !== undefined && among.length === 0) return [];
  // `among`: only these accounts can matter (those listening), so each candidate list is cut to them first.
  const only = (column: string) => (among === undefined ? db`` : db`and ${db.unsafe(column)} = any(${db.array(among)}::bigint[])`);
  const rows = await db<{ id: string }[]>`
    with target as (select * from statuses where id = ${statusId}),
    candidates as (
      select f.account_id as rid from follows f join target s on f.target_account_id = s.account_id
        where s.visibility in ('public', 'unlisted', 'private') and (s.reblog_of_id is null or f.show_reblogs) ${only("f.account_id")}
      union
      select m.account_id from mentions m join target s on m.status_id = s.id where s.visibility in ('private', 'direct') ${only("m.account_id")}
      union
      select tf.account_id from target s join statuses_tags st on st.status_id = s.id join tag_follows tf on tf.tag_id = st.tag_id
        where s.visibility = 'public' and s.reblog_of_id is null ${only("tf.account_id")}
    )
    select c.rid::text as id
    from candidates c
    join accounts a on a.id = c.rid and a.domain is null and a.suspended_at is null
    cross join target s
    left join statuses o on o.id = s.reblog_of_id
    where c.rid <> s.account_id
      and not exists (select 1 from blocks b
        where (b.account_id = c.rid and b.target_account_id in (s.account_id, o.account_id))
           or (b.target_account_id = c.rid and b.account_id in (s.account_id, o.account_id)))
      and not exists (select 1 from mutes mu
        where mu.account_id = c.rid and mu.target_account_id in (s.account_id, o.account_id)
          and (mu.expires_at is null or mu.expires_at > now()))`;
  return rows.map((r) => r.id);
}

/** Whether a notification should be streamed (filtered ones wait in the requests inbox, as in Mastodon). */
export async function notificationStreamable(db: Db, notificationId: string): Promise<boolean> {
  const [row] = await db<{ filtered: boolean }[]>`select filtered from notifications where id = ${notificationId}`;
  return row !== undefined && !row.filtered;
}
