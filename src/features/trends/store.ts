/**
 * SQL for trends. Reads statuses, tags, accounts and preview cards (owned elsewhere) and writes only its own
 * tables (tag_history, trending_tags, trending_statuses, trending_links — migrations/0015_search.sql; the
 * moderators' review in trend_reviews and trend_publishers — migrations/0024).
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

// ---- review: what moderators decided (no row: not reviewed, which trends; rejected never does) ----

export type TrendKind = "tag" | "status" | "link";

/** The item's review (true approved, false rejected, null not reviewed), as a column expression. */
const review = (db: Db, kind: TrendKind, id: string) =>
  db`(select r.trendable from trend_reviews r where r.kind = ${kind} and r.target_id = ${db.unsafe(id)})`;

/** The host of a card's URL, lower-cased: the publisher it is counted under. */
const cardDomain = (db: Db) => db`lower(substring(c.url from '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#@]+)'))`;
/** A link trends unless it was rejected, or it was not reviewed and its publisher was rejected. */
const linkAllowed = (db: Db) =>
  db`coalesce(${review(db, "link", "c.id")}, (select p.trendable from trend_publishers p where p.domain = ${cardDomain(db)}), true)`;

export async function upsertReview(db: Db, kind: TrendKind, targetId: string, trendable: boolean, byAccountId: string): Promise<void> {
  await db`
    insert into trend_reviews (kind, target_id, trendable, reviewed_by_account_id) values (${kind}, ${targetId}, ${trendable}, ${byAccountId})
    on conflict (kind, target_id) do update set trendable = excluded.trendable, reviewed_by_account_id = excluded.reviewed_by_account_id, reviewed_at = now()`;
}

/** Publishers of the links trending now, each known once; a new one is waiting for review. */
export async function rememberPublishers(db: Db): Promise<void> {
  await db`
    insert into trend_publishers (domain, requested_review_at)
    select distinct ${cardDomain(db)}, now() from trending_links tl join preview_cards c on c.id = tl.preview_card_id
    where ${cardDomain(db)} is not null
    on conflict (domain) do nothing`;
}

export async function trendingTags(db: Db, limit: number, offset: number): Promise<TrendingTagRow[]> {
  return db<TrendingTagRow[]>`
    select t.id, t.name, t.display_name from trending_tags tt join tags t on t.id = tt.tag_id
    where t.usable and ${review(db, "tag", "t.id")} is not false
    order by tt.score desc, t.id limit ${limit} offset ${offset}`;
}

export async function trendingStatusIds(db: Db, limit: number, offset: number): Promise<string[]> {
  const rows = await db<{ status_id: string }[]>`
    select ts.status_id from trending_statuses ts where ${review(db, "status", "ts.status_id")} is not false
    order by ts.score desc, ts.status_id desc limit ${limit} offset ${offset}`;
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
    where ${linkAllowed(db)}
    order by tl.score desc, c.id limit ${limit} offset ${offset}`;
}

// ---- the moderators' lists: everything trending, with its review ----

export interface Reviewed {
  /** true approved, false rejected, null not reviewed. */
  review: boolean | null;
}

export async function adminTrendingTags(db: Db, limit: number, offset: number): Promise<(TrendingTagRow & Reviewed & { usable: boolean })[]> {
  return db<(TrendingTagRow & Reviewed & { usable: boolean })[]>`
    select t.id, t.name, t.display_name, t.usable, ${review(db, "tag", "t.id")} as review
    from trending_tags tt join tags t on t.id = tt.tag_id
    order by tt.score desc, t.id limit ${limit} offset ${offset}`;
}

export async function adminTrendingStatuses(db: Db, limit: number, offset: number): Promise<({ status_id: string } & Reviewed)[]> {
  return db<({ status_id: string } & Reviewed)[]>`
    select ts.status_id, ${review(db, "status", "ts.status_id")} as review from trending_statuses ts
    order by ts.score desc, ts.status_id desc limit ${limit} offset ${offset}`;
}

export interface AdminTrendingLinkRow extends TrendingLinkRow, Reviewed {
  allowed: boolean;
}

const LINK_COLUMNS = (db: Db) => db`c.id, c.url, c.title, c.description, c.type, c.author_name, c.author_url, c.provider_name, c.provider_url,
  c.html, c.width, c.height, c.image_url, c.image_description, c.embed_url, c.language, c.published_at,
  c.source, c.expires_at, c.updated_at`;

export async function adminTrendingLinks(db: Db, limit: number, offset: number): Promise<AdminTrendingLinkRow[]> {
  return db<AdminTrendingLinkRow[]>`
    select ${LINK_COLUMNS(db)}, tl.history, ${review(db, "link", "c.id")} as review, ${linkAllowed(db)} as allowed
    from trending_links tl join preview_cards c on c.id = tl.preview_card_id
    order by tl.score desc, c.id limit ${limit} offset ${offset}`;
}

/** One card as the admin trends list shows it (history empty when it is not trending now). */
export async function adminLink(db: Db, cardId: string): Promise<AdminTrendingLinkRow | undefined> {
  const [row] = await db<AdminTrendingLinkRow[]>`
    select ${LINK_COLUMNS(db)}, coalesce(tl.history, '[]'::jsonb) as history, ${review(db, "link", "c.id")} as review, ${linkAllowed(db)} as allowed
    from preview_cards c left join trending_links tl on tl.preview_card_id = c.id where c.id = ${cardId}`;
  return row;
}

export async function adminTag(db: Db, tagId: string): Promise<(TrendingTagRow & Reviewed & { usable: boolean }) | undefined> {
  const [row] = await db<(TrendingTagRow & Reviewed & { usable: boolean })[]>`
    select t.id, t.name, t.display_name, t.usable, ${review(db, "tag", "t.id")} as review from tags t where t.id = ${tagId}`;
  return row;
}

export async function statusReview(db: Db, statusId: string): Promise<Reviewed | undefined> {
  const [row] = await db<Reviewed[]>`select ${review(db, "status", "s.id")} as review from statuses s where s.id = ${statusId} and s.deleted_at is null`;
  return row;
}

export interface PublisherRow {
  id: string;
  domain: string;
  trendable: boolean | null;
  reviewed_at: Date | null;
  requested_review_at: Date | null;
}

export async function listPublishers(db: Db, page: { where: unknown; order: unknown; limit: number }): Promise<PublisherRow[]> {
  return db<PublisherRow[]>`
    select id, domain, trendable, reviewed_at, requested_review_at from trend_publishers x
    where ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

export async function reviewPublisher(db: Db, id: string, trendable: boolean): Promise<PublisherRow | undefined> {
  const [row] = await db<PublisherRow[]>`
    update trend_publishers set trendable = ${trendable}, reviewed_at = now() where id = ${id}
    returning id, domain, trendable, reviewed_at, requested_review_at`;
  return row;
}
