/**
 * SQL for trends. Reads statuses, tags, accounts and preview cards (owned elsewhere) and writes only its own
 * tables (tag_history, trending_tags, trending_statuses, trending_links — migrations/0015_search.sql).
 *
 * Ids are time-sortable (milliseconds << 16), so "received in the last N days" is an id range on the primary
 * key: the refresh never scans the whole statuses table.
 */
import type { Db } from "../../infra/db";
import type { PreviewCard } from "../cards/service";

/** The smallest status id of a moment: the id range lower bound for "since then". */
export function idAt(time: Date): string {
  return (BigInt(time.getTime()) << 16n).toString();
}

/**
 * Public, original, live posts by accounts that are neither suspended nor silenced: what trends count. A post
 * dated in the future (a remote server's clock, or a trick to weigh more) is not counted until it is due.
 */
const countable = (db: Db) => db`s.visibility = 'public' and s.reblog_of_id is null and s.deleted_at is null
  and s.created_at <= now() and a.suspended_at is null and a.silenced_at is null`;

/** Rewrite the per-day tag counts of the window [since, now); days before it are forgotten. `today` is YYYY-MM-DD (UTC). */
export async function refreshTagHistory(db: Db, since: Date): Promise<void> {
  await db`delete from tag_history`;
  await db`
    insert into tag_history (tag_id, day, uses, accounts)
    select st.tag_id, (s.created_at at time zone 'UTC')::date, count(*), count(distinct s.account_id)
    from statuses s
    join statuses_tags st on st.status_id = s.id
    join accounts a on a.id = s.account_id
    where s.id >= ${idAt(since)} and s.created_at >= ${since} and ${countable(db)}
    group by 1, 2`;
}

/**
 * Trending tags: usable tags used by at least `minAccounts` distinct accounts this week, scored by distinct
 * accounts per day, each day counting half the day after it (recent use weighs most).
 */
export async function refreshTrendingTags(db: Db, today: string, minAccounts: number): Promise<void> {
  await db`delete from trending_tags`;
  await db`
    insert into trending_tags (tag_id, score)
    select h.tag_id, sum(h.accounts * power(0.5, ${today}::date - h.day))
    from tag_history h join tags t on t.id = h.tag_id
    where t.usable
    group by h.tag_id
    having sum(h.accounts) >= ${minAccounts}`;
}

/**
 * Trending statuses: public posts of the week by accounts that chose to be discoverable, without content
 * warning or sensitive flag, with at least one favourite or boost; scored by favourites + 2 × boosts,
 * decaying with age (hours + 2)^1.5.
 */
export async function refreshTrendingStatuses(db: Db, since: Date, keep: number): Promise<void> {
  await db`delete from trending_statuses`;
  await db`
    insert into trending_statuses (status_id, score)
    select s.id, (s.favourites_count + 2 * s.reblogs_count) / power(extract(epoch from now() - s.created_at) / 3600 + 2, 1.5)
    from statuses s join accounts a on a.id = s.account_id
    where s.id >= ${idAt(since)} and s.created_at >= ${since} and ${countable(db)}
      and a.discoverable is true and not s.sensitive and s.spoiler_text = ''
      and s.favourites_count + s.reblogs_count > 0
    order by 2 desc
    limit ${keep}`;
}

/** Trending links: preview cards shared in public posts this week by at least `minAccounts` accounts, with a daily history. */
export async function refreshTrendingLinks(db: Db, since: Date, today: string, minAccounts: number, keep: number): Promise<void> {
  await db`delete from trending_links`;
  await db`
    insert into trending_links (preview_card_id, score, history)
    select d.card_id,
           sum(d.accounts * power(0.5, ${today}::date - d.day)),
           jsonb_agg(jsonb_build_object('day', d.day, 'uses', d.uses, 'accounts', d.accounts))
    from (
      select pcs.preview_card_id as card_id, (s.created_at at time zone 'UTC')::date as day,
             count(*) as uses, count(distinct s.account_id) as accounts
      from statuses s
      join preview_cards_statuses pcs on pcs.status_id = s.id
      join accounts a on a.id = s.account_id
      where s.id >= ${idAt(since)} and s.created_at >= ${since} and ${countable(db)}
      group by 1, 2
    ) d
    group by d.card_id
    having sum(d.accounts) >= ${minAccounts}
    order by 2 desc
    limit ${keep}`;
}

export interface HistoryRow {
  tag_id: string;
  day: string;
  uses: number;
  accounts: number;
}

export async function tagHistoryRows(db: Db, tagIds: string[]): Promise<HistoryRow[]> {
  if (tagIds.length === 0) return [];
  return db<HistoryRow[]>`
    select tag_id, to_char(day, 'YYYY-MM-DD') as day, uses, accounts from tag_history where tag_id = any(${tagIds}::bigint[])`;
}

export interface TrendingTagRow {
  id: string;
  name: string;
  display_name: string;
}

export async function trendingTags(db: Db, limit: number, offset: number): Promise<TrendingTagRow[]> {
  return db<TrendingTagRow[]>`
    select t.id, t.name, t.display_name from trending_tags tt join tags t on t.id = tt.tag_id
    where t.usable order by tt.score desc, t.id limit ${limit} offset ${offset}`;
}

export async function trendingStatusIds(db: Db, limit: number, offset: number): Promise<string[]> {
  const rows = await db<{ status_id: string }[]>`
    select status_id from trending_statuses order by score desc, status_id desc limit ${limit} offset ${offset}`;
  return rows.map((r) => r.status_id);
}

export interface TrendingLinkRow extends PreviewCard {
  history: { day: string; uses: number; accounts: number }[];
}

export async function trendingLinks(db: Db, limit: number, offset: number): Promise<TrendingLinkRow[]> {
  return db<TrendingLinkRow[]>`
    select c.id, c.url, c.title, c.description, c.type, c.author_name, c.author_url, c.provider_name, c.provider_url,
           c.html, c.width, c.height, c.image_url, c.image_description, c.embed_url, c.language, c.published_at,
           c.source, c.expires_at, c.updated_at, tl.history
    from trending_links tl join preview_cards c on c.id = tl.preview_card_id
    order by tl.score desc, c.id limit ${limit} offset ${offset}`;
}
