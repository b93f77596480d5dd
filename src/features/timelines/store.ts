/**
 * SQL for timelines. It only READS tables other features own (statuses, follows, blocks, mutes, mentions,
 * tags, tag_follows, accounts): timelines are a view over them, and the queries must see all of them at once
 * to stay one round trip each.
 *
 * Conventions: `s` is the status, `o` its original when `s` is a boost (left join, so o.* is null otherwise).
 */
import type { Db } from "../../infra/db";
import { viewerExclusions, visibleTo } from "../statuses/visibility";
import type { FeedItem } from "./feeds";

// A piece of SQL built with the tagged template (what pageWhere returns, or db`c.rid`).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fragment = any;

/** A page for the home feed rebuild, per source: Mastodon takes MAX_ITEMS / 2 per followed account. */
const PER_SOURCE = 400;
/** The rebuild's first pass per followed account (see homeCandidates). */
const FIRST_PER_ACCOUNT = 20;

/**
 * Whether status `s` belongs in receiver R's home feed, beyond visibility (Mastodon's filter_from_home):
 * not when R blocks, mutes or is blocked by the author (or, for a boost, the original's author); not a reply
 * to someone R does not follow (unless R is the one replied to or is mentioned).
 */
function homeFilter(db: Db, receiver: string | Fragment) {
  return db`(
    not exists (select 1 from blocks b where b.account_id = ${receiver} and b.target_account_id = any(array[s.account_id, o.account_id]))
    and not exists (select 1 from blocks b where b.target_account_id = ${receiver} and b.account_id = any(array[s.account_id, o.account_id]))
    and not exists (select 1 from mutes mu
      where mu.account_id = ${receiver} and mu.target_account_id = any(array[s.account_id, o.account_id])
        and (mu.expires_at is null or mu.expires_at > now()))
    and (s.in_reply_to_account_id is null or s.in_reply_to_account_id = s.account_id or s.in_reply_to_account_id = ${receiver}
      or exists (select 1 from follows fr where fr.account_id = ${receiver} and fr.target_account_id = s.in_reply_to_account_id)
      or exists (select 1 from mentions mr where mr.status_id = s.id and mr.account_id = ${receiver}))
  )`;
}

/** What the follow adds: boosts only with show_reblogs, posts only in the languages chosen (when chosen). */
function followAdmits(db: Db) {
  return db`(s.visibility in ('public', 'unlisted', 'private')
    and (s.reblog_of_id is null or f.show_reblogs)
    and (s.reblog_of_id is not null or f.languages is null or s.language is null or s.language = any(f.languages)))`;
}

export interface FanOutStatus {
  id: string;
  account_id: string;
  visibility: string;
  reblog_of_id: string | null;
  original_account_id: string | null;
  in_reply_to_account_id: string | null;
  language: string | null;
  deleted: boolean;
  author_local: boolean;
}

export async function findForFanOut(db: Db, statusId: string): Promise<FanOutStatus | undefined> {
  const [row] = await db<FanOutStatus[]>`
    select s.id, s.account_id, s.visibility, s.reblog_of_id, o.account_id as original_account_id, s.in_reply_to_account_id,
           s.language, s.deleted_at is not null as deleted, a.domain is null as author_local
    from statuses s join accounts a on a.id = s.account_id left join statuses o on o.id = s.reblog_of_id
    where s.id = ${statusId}`;
  return row;
}

/**
 * The local accounts (author excluded) whose home feed receives a new status: followers (public, unlisted,
 * private), mentioned accounts (private, direct), followers of its hashtags (public, not boosts) — minus
 * those the home filter keeps it from. The same rule as homeFilter, written as set operations on the
 * status's few accounts (each subquery runs once, hashed), because here the receivers are the thousands.
 */
export async function fanOutRecipients(db: Db, s: FanOutStatus): Promise<string[]> {
  const authors = s.original_account_id ? [s.account_id, s.original_account_id] : [s.account_id];
  const isBoost = s.reblog_of_id !== null;
  const replyTo = s.in_reply_to_account_id;
  // One row with every id, not one row per recipient: for 10,000 followers that is one DataRow to parse on
  // the event loop instead of 10,000 (the web role shares it in `woolly all`).
  const [row] = await db<{ ids: string }[]>`
    with candidates as (
      select f.account_id as rid from follows f
        where f.target_account_id = ${s.account_id} and ${s.visibility} in ('public', 'unlisted', 'private')
          and (${!isBoost} or f.show_reblogs)
          and (${isBoost} or f.languages is null or ${s.language}::text is null or ${s.language}::text = any(f.languages))
      union
      select m.account_id from mentions m where m.status_id = ${s.id} and ${s.visibility} in ('private', 'direct')
      union
      select tf.account_id from statuses_tags st join tag_follows tf on tf.tag_id = st.tag_id
        where st.status_id = ${s.id} and ${s.visibility} = 'public' and ${!isBoost}
    )
    select coalesce(string_agg(c.rid::text, ','), '') as ids
    from candidates c
    join accounts a on a.id = c.rid and a.domain is null and a.suspended_at is null
    where c.rid <> ${s.account_id}
      and c.rid not in (select b.account_id from blocks b where b.target_account_id = any(${authors}::bigint[]))
      and c.rid not in (select b.target_account_id from blocks b where b.account_id = any(${authors}::bigint[]))
      and c.rid not in (select mu.account_id from mutes mu where mu.target_account_id = any(${authors}::bigint[])
                                                           and (mu.expires_at is null or mu.expires_at > now()))
      ${
        replyTo && replyTo !== s.account_id
          ? db`and (c.rid = ${replyTo}
                 or c.rid in (select fr.account_id from follows fr where fr.target_account_id = ${replyTo})
                 or c.rid in (select mr.account_id from mentions mr where mr.status_id = ${s.id}))`
          : db``
      }`;
  return row!.ids === "" ? [] : row!.ids.split(",");
}

/**
 * Every local account whose feed may hold `statusId` or a boost of it: the author, its followers, the
 * mentioned, the hashtag followers, the boosters and their followers. Removal is harmless where it is absent.
 */
export async function feedsThatMayHold(db: Db, statusId: string, authorId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    with boosters as (select account_id from statuses where reblog_of_id = ${statusId}),
    candidates as (
      select ${authorId}::bigint as rid
      union select account_id from follows where target_account_id = ${authorId}
      union select account_id from mentions where status_id = ${statusId}
      union select tf.account_id from statuses_tags st join tag_follows tf on tf.tag_id = st.tag_id where st.status_id = ${statusId}
      union select account_id from boosters
      union select f.account_id from follows f join boosters b on f.target_account_id = b.account_id
    )
    select c.rid as id from candidates c join accounts a on a.id = c.rid and a.domain is null`;
  return rows.map((r) => r.id);
}

export async function boostsOf(db: Db, statusId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select id from statuses where reblog_of_id = ${statusId}`;
  return rows.map((r) => r.id);
}

interface Candidate {
  id: string;
  reblog_of_id: string | null;
  /** The followed account it came through; null for own posts, mentions and followed hashtags. */
  via: string | null;
  /** Visible to the account and passing the home filter. */
  keep: boolean;
}

/**
 * The row-level rules (visibility, home filter) are applied OUTSIDE each per-account LIMIT: inside it they
 * would stop Postgres from walking statuses_account newest-first and stopping after a few rows.
 */
function keep(db: Db, accountId: string) {
  return db`(${visibleTo(db, accountId)} and (s.account_id = ${accountId} or ${homeFilter(db, accountId)}))`;
}

/**
 * The newest `max` statuses for a rebuilt home feed, oldest first (the order they are added in): own posts,
 * what follows admit, private and direct posts that mention the account, followed hashtags — visible to the
 * account and passing the home filter.
 *
 * Taking the newest `max` of a thousand followed accounts' posts naively reads `max` rows per account. In two
 * steps instead: the newest FIRST_PER_ACCOUNT of each followed account, which fixes a threshold (the
 * max-th newest kept); then, only for accounts whose rows so far are all above that threshold, what else
 * they have above it. Few accounts can qualify (each puts FIRST_PER_ACCOUNT rows into the top `max`).
 */
export async function homeCandidates(db: Db, accountId: string, max: number): Promise<FeedItem[]> {
  const first = await db<Candidate[]>`
    select s.id, s.reblog_of_id, x.via, ${keep(db, accountId)} as keep from (
      (select s.id, null::bigint as via from statuses s where s.account_id = ${accountId} and s.deleted_at is null order by s.id desc limit ${PER_SOURCE})
      union all
      (select x.id, f.target_account_id from follows f cross join lateral (
          select s.id from statuses s
          where s.account_id = f.target_account_id and s.deleted_at is null and ${followAdmits(db)}
          order by s.id desc limit ${FIRST_PER_ACCOUNT}) x
        where f.account_id = ${accountId})
      union all
      (select m.status_id, null from mentions m join statuses s on s.id = m.status_id
        where m.account_id = ${accountId} and s.visibility in ('private', 'direct') and s.deleted_at is null
        order by m.status_id desc limit ${PER_SOURCE})
      union all
      (select x.id, null from tag_follows tf cross join lateral (
          select s.id from statuses_tags st join statuses s on s.id = st.status_id
          where st.tag_id = tf.tag_id and s.visibility = 'public' and s.reblog_of_id is null and s.deleted_at is null
          order by st.status_id desc limit ${PER_SOURCE}) x
        where tf.account_id = ${accountId})
    ) x
    cross join lateral (select * from statuses s where s.id = x.id offset 0) s -- one index probe per row, never a scan of statuses
    left join statuses o on o.id = s.reblog_of_id`;

  const newestFirst = (a: { id: string }, b: { id: string }) => (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0);
  const kept = new Map(first.filter((c) => c.keep).map((c) => [c.id, c]));
  const sorted = [...kept.values()].sort(newestFirst);
  const threshold = sorted.length >= max ? sorted[max - 1]!.id : "0";
  // Accounts that gave all FIRST_PER_ACCOUNT rows, all above the threshold: they may have more that belong.
  const perAccount = new Map<string, string[]>();
  for (const c of first) if (c.via) perAccount.set(c.via, [...(perAccount.get(c.via) ?? []), c.id]);
  const more = [...perAccount]
    .filter(([, ids]) => ids.length >= FIRST_PER_ACCOUNT && ids.every((id) => BigInt(id) > BigInt(threshold)))
    .map(([via, ids]) => ({ via, below: ids.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b)) }));
  if (more.length > 0) {
    const rest = await db<Candidate[]>`
      select s.id, s.reblog_of_id, x.via, ${keep(db, accountId)} as keep from (
        select x.id, f.target_account_id as via
        from follows f
        join (select unnest(${more.map((m) => m.via)}::bigint[]) as via, unnest(${more.map((m) => m.below)}::bigint[]) as below) b
          on b.via = f.target_account_id
        cross join lateral (
          select s.id from statuses s
          where s.account_id = f.target_account_id and s.deleted_at is null and ${followAdmits(db)}
            and s.id < b.below and s.id > ${threshold}
          order by s.id desc limit ${max}) x
        where f.account_id = ${accountId}
      ) x
      cross join lateral (select * from statuses s where s.id = x.id offset 0) s
      left join statuses o on o.id = s.reblog_of_id`;
    for (const c of rest) if (c.keep) kept.set(c.id, c);
  }
  return [...kept.values()]
    .sort(newestFirst)
    .slice(0, max)
    .reverse()
    .map((c) => ({ id: c.id, reblogOfId: c.reblog_of_id }));
}

/** The newest posts of `targetId` that a new follow of `accountId` brings into its feed, oldest first. */
export async function mergeCandidates(db: Db, accountId: string, targetId: string, limit: number): Promise<FeedItem[]> {
  const rows = await db<{ id: string; reblog_of_id: string | null }[]>`
    select s.id, s.reblog_of_id
    from statuses s
    join follows f on f.account_id = ${accountId} and f.target_account_id = s.account_id
    left join statuses o on o.id = s.reblog_of_id
    where s.account_id = ${targetId} and s.deleted_at is null and ${followAdmits(db)} and ${homeFilter(db, accountId)}
    order by s.id desc limit ${limit}`;
  return rows.reverse().map((r) => ({ id: r.id, reblogOfId: r.reblog_of_id }));
}

/**
 * Among feed ids, those that an unfollow of `targetId` takes out: its posts and boosts, except posts that
 * mention the account (those came through the mention, not the follow).
 */
export async function unfollowRemovals(db: Db, accountId: string, targetId: string, feedIds: string[]): Promise<FeedItem[]> {
  if (feedIds.length === 0) return [];
  const rows = await db<{ id: string; reblog_of_id: string | null }[]>`
    select s.id, s.reblog_of_id from statuses s
    where s.id = any(${feedIds}::bigint[]) and s.account_id = ${targetId}
      and not exists (select 1 from mentions m where m.status_id = s.id and m.account_id = ${accountId})`;
  return rows.map((r) => ({ id: r.id, reblogOfId: r.reblog_of_id }));
}

/** Among feed ids, what a block between the owner and `otherId` takes out: the other's posts, boosts, and boosts of its posts. */
export async function blockRemovals(db: Db, otherId: string, feedIds: string[]): Promise<FeedItem[]> {
  if (feedIds.length === 0) return [];
  const rows = await db<{ id: string; reblog_of_id: string | null }[]>`
    select s.id, s.reblog_of_id from statuses s left join statuses o on o.id = s.reblog_of_id
    where s.id = any(${feedIds}::bigint[]) and (s.account_id = ${otherId} or o.account_id = ${otherId})`;
  return rows.map((r) => ({ id: r.id, reblogOfId: r.reblog_of_id }));
}

/** Not by a member of one of the receiver's exclusive lists (Mastodon: those posts show in the list only). */
function notInExclusiveList(db: Db, receiver: string) {
  return db`not exists (select 1 from lists l join list_accounts la on la.list_id = l.id
    where l.account_id = ${receiver} and l.exclusive and la.account_id = s.account_id)`;
}

/**
 * Whether feed item `s` (with `o`, its original when a boost, left-joined) is still fit for the home timeline
 * of `accountId` now: a mute or block made after the fan-out applies at once, and a member of one of its
 * exclusive lists is left out. A condition, not a query: the render page query applies it to the statuses it
 * reads anyway (renderStatuses' `where`), so a home page costs one statement. Visibility is checked there too.
 */
export function stillInHome(db: Db, accountId: string): Fragment {
  return db`(s.account_id = ${accountId} or (${homeFilter(db, accountId)} and ${notInExclusiveList(db, accountId)}))`;
}

export async function localAccountIds(db: Db): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select id from accounts where domain is null and suspended_at is null order by id`;
  return rows.map((r) => r.id);
}

// ---- public and hashtag timelines (from Postgres) ----

/** A page over `s.id`, built at the edge with api/pagination.ts's pageWhere(sql, sql`s.id`, params). */
export interface Page {
  where: Fragment;
  order: Fragment;
  limit: number;
}

export interface PublicFilters {
  local?: boolean;
  remote?: boolean;
  onlyMedia?: boolean;
}

function publicWhere(db: Db, viewerId: string | null, filters: PublicFilters) {
  return db`s.visibility = 'public' and s.reblog_of_id is null and s.deleted_at is null
    and a.suspended_at is null and a.silenced_at is null
    ${filters.local ? db`and s.local` : db``}
    ${filters.remote ? db`and not s.local` : db``}
    ${filters.onlyMedia ? db`and exists (select 1 from media_attachments ma where ma.status_id = s.id)` : db``}
    and ${viewerExclusions(db, viewerId)}`;
}

/**
 * The public timeline page as a query of its ids (newest first, or oldest first for a min_id page); replies to
 * others are left out, as Mastodon's public feed does. A query, not ids: the render page query selects the
 * statuses with it (renderSelectedStatuses), so a public page is one statement.
 */
export function publicIdsQuery(db: Db, viewerId: string | null, filters: PublicFilters, page: Page): Fragment {
  const { where, order, limit } = page;
  return db`
    select s.id from statuses s join accounts a on a.id = s.account_id
    where ${publicWhere(db, viewerId, filters)}
      and (s.in_reply_to_id is null or s.in_reply_to_account_id = s.account_id)
      and ${where}
    order by ${order} limit ${literalLimit(db, limit)}`;
}

/**
 * A page size written into the statement rather than sent as a parameter. With `limit $n` Postgres cannot
 * tell a page of 20 from a scan of everything, so its generic plan for a prepared timeline query is hopeless
 * (seconds) and it plans the statement afresh on every execution instead (~0.5 ms of Postgres CPU per page);
 * with the number in the text, the generic plan walks the index and is reused. Pages have a handful of
 * sizes (1–40), so there are a handful of prepared statements.
 */
function literalLimit(db: Db, limit: number): Fragment {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error(`bad page size ${limit}`);
  return db.unsafe(String(limit));
}

export async function tagIdsByName(db: Db, names: string[]): Promise<Map<string, string>> {
  if (names.length === 0) return new Map();
  const rows = await db<{ id: string; name: string }[]>`select id, name from tags where name = any(${names})`;
  return new Map(rows.map((r) => [r.name, r.id]));
}

/** Hashtag timeline ids: tagged with any of `anyOf`, with every tag of each `allOf` entry, none of `noneOf`. */
export async function tagIds(
  db: Db,
  viewerId: string | null,
  tags: { anyOf: string[]; allOf: string[]; noneOf: string[] },
  filters: PublicFilters,
  page: Page,
): Promise<string[]> {
  const { where, order, limit } = page;
  const all = tags.allOf.map((tagId) => db`and exists (select 1 from statuses_tags sa where sa.status_id = s.id and sa.tag_id = ${tagId})`);
  const rows = await db<{ id: string }[]>`
    select s.id from statuses s join accounts a on a.id = s.account_id
    where s.id in (select st.status_id from statuses_tags st where st.tag_id = any(${tags.anyOf}::bigint[]))
      ${all.reduce((acc, part) => db`${acc} ${part}`, db``)}
      ${tags.noneOf.length ? db`and not exists (select 1 from statuses_tags sn where sn.status_id = s.id and sn.tag_id = any(${tags.noneOf}::bigint[]))` : db``}
      and ${publicWhere(db, viewerId, filters)}
      and ${where}
    order by ${order} limit ${limit}`;
  return rows.map((r) => r.id);
}
