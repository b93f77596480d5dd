/**
 * SQL for search. Like timelines, search is a view over tables other features own (statuses, accounts,
 * users, tags, follows, blocks, mutes, favourites, bookmarks, mentions, polls, media): it only reads them,
 * in one query per kind, with every value a parameter.
 *
 * Statuses: `s` is the status, `a` its author. The full-text index is the expression index statuses_search
 * (migrations/0015_search.sql); the WHERE below repeats its expression and its partial predicate exactly,
 * or Postgres would not use it.
 */
import type { Db } from "../../infra/db";
import { viewerExclusions, visibleTo } from "../statuses/visibility";
import type { HasFilter, IsFilter } from "./query";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fragment = any;

/**
 * The tsquery for `text` in the given languages: the words as written ('simple', which every post is indexed
 * with) OR'ed with the words stemmed in each language. `indexable` is false when the query could only be
 * answered by reading every row (only negations, or an OR with a negation): the caller then finds nothing.
 */
export async function buildTsQuery(db: Db, text: string, languages: string[]): Promise<{ tsquery: string; indexable: boolean }> {
  let expression: Fragment = db`websearch_to_tsquery('pg_catalog.simple'::regconfig, ${text})`;
  for (const language of languages) expression = db`${expression} || websearch_to_tsquery(woolly_search_config(${language}), ${text})`;
  const [row] = await db<{ tsquery: string; tree: string }[]>`select q::text as tsquery, querytree(q) as tree from (select ${expression} as q) x`;
  return { tsquery: row!.tsquery, indexable: row!.tree !== "T" && row!.tree !== "" };
}

export interface StatusSearch {
  viewerId: string;
  /** A tsquery (from buildTsQuery), or null for an author-only query. */
  tsquery: string | null;
  /** Only the viewer's own posts and those they interacted with (in:library), not every indexable public post. */
  libraryOnly: boolean;
  accountId?: string;
  fromIds: string[];
  notFromIds: string[];
  has: { value: HasFilter; negated: boolean }[];
  is: { value: IsFilter; negated: boolean }[];
  language?: string;
  before?: Date;
  after?: Date;
  /** Ids strictly below (max_id). */
  belowId?: string;
  /** Ids strictly above (min_id). */
  aboveId?: string;
  limit: number;
  offset: number;
}

/** A link that is not a mention or a hashtag: an <a> with an http(s) href and no mention/hashtag class. */
const LINK_PATTERN = `<a\\s(?![^>]*class="[^"]*(mention|hashtag))[^>]*href="https?://`;

function hasCondition(db: Db, value: HasFilter): Fragment {
  switch (value) {
    case "media":
      return db`exists (select 1 from media_attachments m where m.status_id = s.id)`;
    case "image":
      return db`exists (select 1 from media_attachments m where m.status_id = s.id and m.type = 'image')`;
    case "video":
      return db`exists (select 1 from media_attachments m where m.status_id = s.id and m.type in ('video', 'gifv'))`;
    case "audio":
      return db`exists (select 1 from media_attachments m where m.status_id = s.id and m.type = 'audio')`;
    case "poll":
      return db`s.poll_id is not null`;
    case "link":
      return db`s.content ~ ${LINK_PATTERN}`;
  }
}

function isCondition(db: Db, value: IsFilter): Fragment {
  return value === "reply" ? db`s.in_reply_to_id is not null` : db`s.sensitive`;
}

/**
 * What Mastodon lets a person find by full text (StatusesIndex#searchable_by plus indexable public posts):
 * their own posts, posts they were mentioned in, favourited, bookmarked, boosted, replied to or voted in —
 * and, unless in:library, public posts of accounts that opted into search (accounts.indexable).
 * The IN subqueries do not depend on the row: Postgres hashes each once per query.
 */
function searchable(db: Db, viewerId: string, libraryOnly: boolean): Fragment {
  return db`(
    ${libraryOnly ? db`false` : db`(s.visibility = 'public' and a.indexable)`}
    or s.account_id = ${viewerId}
    or s.id in (select status_id from mentions where account_id = ${viewerId})
    or s.id in (select status_id from favourites where account_id = ${viewerId})
    or s.id in (select status_id from bookmarks where account_id = ${viewerId})
    or s.id in (select reblog_of_id from statuses where account_id = ${viewerId} and reblog_of_id is not null and deleted_at is null)
    or s.id in (select in_reply_to_id from statuses where account_id = ${viewerId} and in_reply_to_id is not null and deleted_at is null)
    or s.poll_id in (select poll_id from poll_votes where account_id = ${viewerId})
  )`;
}

/**
 * Before a word search (call inside its transaction): the plan must read the matches from the GIN index (a
 * bitmap, combined with the id range of a window) and sort them. Postgres would otherwise be tempted to walk
 * the primary key newest-first and compute every post's tsvector on the way, which costs seconds when the
 * words are rare. Index scans and sequential scans are switched off for the rest of this (read-only,
 * search-only) transaction to rule that out, and parallel workers too: starting them costs more than these
 * queries take. Plans are made for the actual words and id ranges (custom plans): a generic plan of the
 * prepared statement, made for "some tsquery", reads every window in full. (JIT is off for every search
 * transaction — service.ts `bounded` — which matters most here: the last window's estimate, all of history,
 * crosses jit_above_cost, though it is rarely run.) One round trip.
 */
export async function planForWordSearch(db: Db): Promise<void> {
  await db`select set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'off', true),
                  set_config('max_parallel_workers_per_gather', '0', true), set_config('plan_cache_mode', 'force_custom_plan', true)`;
}

export interface IdWindow {
  /** Ids strictly below. */
  below?: string;
  /** Ids at or above. */
  from?: string;
}

/**
 * Status ids matching the search, newest first. Visibility is THE rule (visibleTo), on top of searchability.
 *
 * `windows` are disjoint id ranges, newest first. They become one UNION ALL of per-window top-N queries under
 * one LIMIT: Postgres runs the branches in order and stops as soon as the LIMIT is met, so a common word is
 * answered from the newest window alone, in one round trip. (Append keeps its branches' order; parallel
 * plans, which would not, are off for word searches — planForWordSearch.)
 */
export async function searchStatusIds(db: Db, q: StatusSearch, windows: IdWindow[] = [{}]): Promise<string[]> {
  const wanted = q.offset + q.limit;
  const branch = (w: IdWindow) => {
    const parts: Fragment[] = [];
    if (q.tsquery !== null) parts.push(db`woolly_status_tsv(s.content, s.spoiler_text, s.language) @@ ${q.tsquery}::tsquery`);
    if (q.accountId) parts.push(db`s.account_id = ${q.accountId}`);
    for (const id of q.fromIds) parts.push(db`s.account_id = ${id}`);
    for (const id of q.notFromIds) parts.push(db`s.account_id <> ${id}`);
    for (const { value, negated } of q.has) parts.push(negated ? db`not ${hasCondition(db, value)}` : hasCondition(db, value));
    for (const { value, negated } of q.is) parts.push(negated ? db`not ${isCondition(db, value)}` : isCondition(db, value));
    if (q.language) parts.push(db`s.language = ${q.language}`);
    if (q.before) parts.push(db`s.created_at < ${q.before}`);
    if (q.after) parts.push(db`s.created_at >= ${q.after}`);
    if (q.belowId) parts.push(db`s.id < ${q.belowId}`);
    if (q.aboveId) parts.push(db`s.id > ${q.aboveId}`);
    if (w.below) parts.push(db`s.id < ${w.below}`);
    if (w.from) parts.push(db`s.id >= ${w.from}`);
    const filters = parts.reduce((acc, part) => db`${acc} and ${part}`, db`true`);
    return db`(
      select s.id from statuses s join accounts a on a.id = s.account_id
      where s.deleted_at is null and s.reblog_of_id is null
        and ${filters}
        and a.suspended_at is null
        and ${searchable(db, q.viewerId, q.libraryOnly)}
        and ${visibleTo(db, q.viewerId)}
        and ${viewerExclusions(db, q.viewerId)}
      order by s.id desc
      limit ${wanted})`;
  };
  const union = windows.map(branch).reduce((acc, b) => db`${acc} union all ${b}`);
  const rows = await db<{ id: string }[]>`select id from (${union}) w limit ${q.limit} offset ${q.offset}`;
  return rows.map((r) => r.id);
}

/** Statuses whose ActivityPub id or web URL is exactly `url` (pasting a post's link into the search box). */
export async function statusIdsByUrl(db: Db, url: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select id from statuses where (uri = ${url} or url = ${url}) and deleted_at is null and reblog_of_id is null limit 1`;
  return rows.map((r) => r.id);
}

export async function accountIdsByUrl(db: Db, url: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select id from accounts where (uri = ${url} or url = ${url}) and suspended_at is null limit 1`;
  return rows.map((r) => r.id);
}

export interface AccountSearch {
  viewerId: string | null;
  /** A prefix tsquery over username and display name ("ali:* & smi:*"), built from letters and digits only. */
  prefixQuery: string | null;
  /** username@domain written in full: that account ranks first. domain null = local. */
  exact?: { username: string; domain: string | null };
  /** Restrict to accounts on domains starting with this (lower-cased, LIKE-escaped), for "name@dom". */
  domainPrefix?: string;
  localDomainOnly?: boolean;
  following: boolean;
  limit: number;
  offset: number;
}

/**
 * Accounts by word prefix of username and display name, or exactly by handle. Mastodon's ranking, simplified:
 * the exact handle first, then accounts the viewer follows, then by followers. Hidden accounts (suspended,
 * unconfirmed or unapproved sign-ups) and accounts blocking or blocked by the viewer never appear.
 */
export async function searchAccountIds(db: Db, q: AccountSearch): Promise<string[]> {
  const matchers: Fragment[] = [];
  if (q.prefixQuery) {
    const domain = q.localDomainOnly
      ? db`and a.domain is null`
      : q.domainPrefix !== undefined
        ? db`and lower(coalesce(a.domain, '')) like ${q.domainPrefix + "%"}`
        : db``;
    matchers.push(db`(to_tsvector('pg_catalog.simple'::regconfig, a.username || ' ' || a.display_name) @@ to_tsquery('pg_catalog.simple'::regconfig, ${q.prefixQuery}) ${domain})`);
  }
  const exact = q.exact ? db`(lower(a.username) = lower(${q.exact.username}) and lower(coalesce(a.domain, '')) = ${q.exact.domain?.toLowerCase() ?? ""})` : db`false`;
  if (q.exact) matchers.push(exact);
  if (matchers.length === 0) return [];
  const match = matchers.reduce((acc, m) => db`${acc} or ${m}`);
  const viewer = q.viewerId;
  const followed = viewer ? db`exists (select 1 from follows f where f.account_id = ${viewer} and f.target_account_id = a.id)` : db`false`;
  const rows = await db<{ id: string }[]>`
    select a.id from accounts a left join users u on u.account_id = a.id
    where (${match})
      and a.suspended_at is null
      and (u.id is null or (u.confirmed_at is not null and u.approved and not u.disabled))
      ${
        viewer
          ? db`and not exists (select 1 from blocks b where (b.account_id = ${viewer} and b.target_account_id = a.id)
                                                     or (b.account_id = a.id and b.target_account_id = ${viewer}))`
          : db``
      }
      ${q.following && viewer ? db`and ${followed}` : db``}
    order by (${exact})::int desc, (${followed})::int desc, a.followers_count desc, a.id
    limit ${q.limit} offset ${q.offset}`;
  return rows.map((r) => r.id);
}

export interface TagHit {
  id: string;
  name: string;
  display_name: string;
}

/**
 * Usable hashtags whose name starts with `prefix` (normalised, lower-cased): the exact name first, then by use
 * this week. `reviewedOnly` (exclude_unreviewed): only tags a moderator reviewed for trends (trend_reviews,
 * migrations/0024), approved or rejected, as Mastodon's Tag.reviewed.
 */
export async function searchTags(db: Db, prefix: string, limit: number, offset: number, reviewedOnly = false): Promise<TagHit[]> {
  const pattern = prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + "%";
  const reviewed = reviewedOnly ? db`and exists (select 1 from trend_reviews r where r.kind = 'tag' and r.target_id = t.id)` : db``;
  return db<TagHit[]>`
    select t.id, t.name, t.display_name from tags t
    where t.name like ${pattern} and t.usable ${reviewed}
    order by (t.name = ${prefix}) desc,
             coalesce((select sum(h.uses) from tag_history h where h.tag_id = t.id), 0) desc,
             t.name
    limit ${limit} offset ${offset}`;
}

/** Account ids for from:@user[@domain]; a domain of null means local. */
export async function accountIdByHandle(db: Db, username: string, domain: string | null): Promise<string | undefined> {
  const [row] = await db<{ id: string }[]>`
    select id from accounts where lower(username) = lower(${username}) and lower(coalesce(domain, '')) = ${domain?.toLowerCase() ?? ""}`;
  return row?.id;
}

/** The search indexes (migrations/0015_search.sql), rebuilt without blocking writes. */
export const SEARCH_INDEXES = ["statuses_search", "accounts_search", "tags_name_prefix"] as const;

export async function reindex(db: Db, index: (typeof SEARCH_INDEXES)[number]): Promise<void> {
  // REINDEX … CONCURRENTLY cannot run in a transaction block; the name is one of ours, never input.
  await db.unsafe(`reindex index concurrently ${index}`);
}

export async function indexSize(db: Db, index: string): Promise<number> {
  const [row] = await db<{ size: number }[]>`select pg_relation_size(${index}::regclass)::float8 as size`;
  return row!.size;
}
