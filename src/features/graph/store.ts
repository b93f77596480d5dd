/**
 * SQL for the social graph: follows, follow requests, blocks, mutes, user-level domain blocks, endorsements
 * (account_pins), private notes, followed tags; plus the follower / following counters on accounts, which
 * only change together with a follows row (so they live here, in the same transaction as that row).
 * Every write that can repeat reports whether it changed anything, so counters and events happen once.
 */
import type { Db } from "../../infra/db";

/** A mute counts until it expires; an expired row is as good as absent everywhere. */
const ACTIVE_MUTE = "(m.expires_at is null or m.expires_at > now())";

export interface FollowOptions {
  showReblogs?: boolean;
  notify?: boolean;
  languages?: string[] | null;
  /** The ActivityPub Follow's id: a remote actor's, or the one we send for a local → remote request. */
  uri?: string | null;
}

export interface FollowRow {
  id: string;
  account_id: string;
  target_account_id: string;
  show_reblogs: boolean;
  notify: boolean;
  languages: string[] | null;
  uri: string | null;
}

// ---- follows and follow requests ----

export async function findFollow(db: Db, accountId: string, targetId: string): Promise<FollowRow | undefined> {
  const [row] = await db<FollowRow[]>`select id, account_id, target_account_id, show_reblogs, notify, languages, uri
    from follows where account_id = ${accountId} and target_account_id = ${targetId}`;
  return row;
}

export async function findFollowRequest(db: Db, accountId: string, targetId: string): Promise<FollowRow | undefined> {
  const [row] = await db<FollowRow[]>`select id, account_id, target_account_id, show_reblogs, notify, languages, uri
    from follow_requests where account_id = ${accountId} and target_account_id = ${targetId}`;
  return row;
}

/** Insert a follow; true when it is new (false when it already existed). */
export async function insertFollow(db: Db, accountId: string, targetId: string, options: FollowOptions): Promise<boolean> {
  const rows = await db`insert into follows (account_id, target_account_id, show_reblogs, notify, languages, uri)
    values (${accountId}, ${targetId}, ${options.showReblogs ?? true}, ${options.notify ?? false}, ${options.languages ?? null}, ${options.uri ?? null})
    on conflict (account_id, target_account_id) do nothing returning id`;
  return rows.length > 0;
}

export async function insertFollowRequest(db: Db, accountId: string, targetId: string, options: FollowOptions): Promise<boolean> {
  const rows = await db`insert into follow_requests (account_id, target_account_id, show_reblogs, notify, languages, uri)
    values (${accountId}, ${targetId}, ${options.showReblogs ?? true}, ${options.notify ?? false}, ${options.languages ?? null}, ${options.uri ?? null})
    on conflict (account_id, target_account_id) do nothing returning id`;
  return rows.length > 0;
}

/** The id a new row will take, so a local → remote request can carry its Follow id from the start. */
export async function newRowId(db: Db): Promise<string> {
  const [row] = await db<{ id: string }[]>`select woolly_id()::text as id`;
  return row!.id;
}

export async function insertFollowRequestWithId(db: Db, id: string, accountId: string, targetId: string, options: FollowOptions): Promise<boolean> {
  const rows = await db`insert into follow_requests (id, account_id, target_account_id, show_reblogs, notify, languages, uri)
    values (${id}, ${accountId}, ${targetId}, ${options.showReblogs ?? true}, ${options.notify ?? false}, ${options.languages ?? null}, ${options.uri ?? null})
    on conflict (account_id, target_account_id) do nothing returning id`;
  return rows.length > 0;
}

export interface AccountPlace {
  id: string;
  uri: string;
  domain: string | null;
}

export async function accountPlace(db: Db, id: string): Promise<AccountPlace | undefined> {
  const [row] = await db<AccountPlace[]>`select id, uri, domain from accounts where id = ${id}`;
  return row;
}

/** Follows between `accountId` and accounts on `domain` (its subdomains, and any port on it), both directions. */
export async function followsWithDomain(db: Db, accountId: string, domain: string): Promise<FollowRow[]> {
  return db<FollowRow[]>`
    select f.id, f.account_id, f.target_account_id, f.show_reblogs, f.notify, f.languages, f.uri
    from follows f join accounts a on a.id = case when f.account_id = ${accountId} then f.target_account_id else f.account_id end
    where (f.account_id = ${accountId} or f.target_account_id = ${accountId})
      and (lower(regexp_replace(a.domain, ':[0-9]+$', '')) = ${domain} or lower(regexp_replace(a.domain, ':[0-9]+$', '')) like ${"%." + domain})`;
}

/** Pending requests between `accountId` and accounts on `domain`, both directions. */
export async function followRequestsWithDomain(db: Db, accountId: string, domain: string): Promise<FollowRow[]> {
  return db<FollowRow[]>`
    select f.id, f.account_id, f.target_account_id, f.show_reblogs, f.notify, f.languages, f.uri
    from follow_requests f join accounts a on a.id = case when f.account_id = ${accountId} then f.target_account_id else f.account_id end
    where (f.account_id = ${accountId} or f.target_account_id = ${accountId})
      and (lower(regexp_replace(a.domain, ':[0-9]+$', '')) = ${domain} or lower(regexp_replace(a.domain, ':[0-9]+$', '')) like ${"%." + domain})`;
}

/** Change only the options given (a follow repeated with new `reblogs` / `notify` / `languages`). */
export async function updateFollowOptions(db: Db, table: "follows" | "follow_requests", accountId: string, targetId: string, options: FollowOptions): Promise<void> {
  if (options.showReblogs === undefined && options.notify === undefined && options.languages === undefined) return;
  await db`update ${db(table)} set
      show_reblogs = coalesce(${options.showReblogs ?? null}::boolean, show_reblogs),
      notify = coalesce(${options.notify ?? null}::boolean, notify),
      languages = case when ${options.languages !== undefined}::boolean then ${options.languages ?? null}::text[] else languages end
    where account_id = ${accountId} and target_account_id = ${targetId}`;
}

/** Delete a follow; the deleted row, or undefined when there was none. */
export async function deleteFollow(db: Db, accountId: string, targetId: string): Promise<FollowRow | undefined> {
  const [row] = await db<FollowRow[]>`delete from follows where account_id = ${accountId} and target_account_id = ${targetId}
    returning id, account_id, target_account_id, show_reblogs, notify, languages, uri`;
  return row;
}

export async function deleteFollowRequest(db: Db, accountId: string, targetId: string): Promise<FollowRow | undefined> {
  const [row] = await db<FollowRow[]>`delete from follow_requests where account_id = ${accountId} and target_account_id = ${targetId}
    returning id, account_id, target_account_id, show_reblogs, notify, languages, uri`;
  return row;
}

/**
 * Serialise changes between two accounts (follow vs. block racing) for the rest of the transaction: a
 * follow checked against blocks cannot slip in while a block between the same two is cutting follows.
 */
export async function lockPair(db: Db, a: string, b: string): Promise<void> {
  const [low, high] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
  await db`select pg_advisory_xact_lock(hashtextextended(${`graph:${low}:${high}`}, 0))`;
}

/**
 * Keep accounts.following_count / followers_count in step with one follow row added (+1) or removed (-1).
 * Both rows are locked in id order first, so crossing follows (a→b while b→a or c→a) cannot deadlock; "no key"
 * because the follows row just written holds a key-share lock on them (its foreign keys).
 */
export async function adjustFollowCounts(db: Db, accountId: string, targetId: string, delta: 1 | -1): Promise<void> {
  await db`select id from accounts where id in (${accountId}, ${targetId}) order by id for no key update`;
  await db`update accounts set following_count = greatest(0, following_count + ${delta}) where id = ${accountId}`;
  await db`update accounts set followers_count = greatest(0, followers_count + ${delta}) where id = ${targetId}`;
}

export async function countFollowRequests(db: Db, targetId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from follow_requests where target_account_id = ${targetId}`;
  return row!.n;
}

// ---- blocks, mutes, domain blocks ----

export async function insertBlock(db: Db, accountId: string, targetId: string): Promise<boolean> {
  const rows = await db`insert into blocks (account_id, target_account_id) values (${accountId}, ${targetId})
    on conflict (account_id, target_account_id) do nothing returning id`;
  return rows.length > 0;
}

/** Delete a block; the deleted row's id, or undefined when there was none. */
export async function deleteBlock(db: Db, accountId: string, targetId: string): Promise<string | undefined> {
  const [row] = await db<{ id: string }[]>`delete from blocks where account_id = ${accountId} and target_account_id = ${targetId} returning id`;
  return row?.id;
}

export async function blocks(db: Db, accountId: string, targetId: string): Promise<boolean> {
  const [row] = await db`select 1 from blocks where account_id = ${accountId} and target_account_id = ${targetId}`;
  return row !== undefined;
}

export async function blockedEitherWay(db: Db, a: string, b: string): Promise<boolean> {
  const [row] = await db`select 1 from blocks
    where (account_id = ${a} and target_account_id = ${b}) or (account_id = ${b} and target_account_id = ${a}) limit 1`;
  return row !== undefined;
}

/** Create or replace a mute (a repeated mute takes the new options, as Mastodon). */
export async function upsertMute(db: Db, accountId: string, targetId: string, hideNotifications: boolean, expiresAt: Date | null): Promise<void> {
  await db`insert into mutes (account_id, target_account_id, hide_notifications, expires_at)
    values (${accountId}, ${targetId}, ${hideNotifications}, ${expiresAt})
    on conflict (account_id, target_account_id) do update set hide_notifications = excluded.hide_notifications, expires_at = excluded.expires_at`;
}

export async function deleteMute(db: Db, accountId: string, targetId: string): Promise<void> {
  await db`delete from mutes where account_id = ${accountId} and target_account_id = ${targetId}`;
}

export async function activeMuteTargets(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select m.target_account_id as id from mutes m
    where m.account_id = ${accountId} and ${db.unsafe(ACTIVE_MUTE)}`;
  return rows.map((r) => r.id);
}

export async function insertDomainBlock(db: Db, accountId: string, domain: string): Promise<void> {
  await db`insert into account_domain_blocks (account_id, domain) values (${accountId}, ${domain}) on conflict (account_id, domain) do nothing`;
}

export async function deleteDomainBlock(db: Db, accountId: string, domain: string): Promise<void> {
  await db`delete from account_domain_blocks where account_id = ${accountId} and domain = ${domain}`;
}

// ---- endorsements and notes ----

export async function insertPin(db: Db, accountId: string, targetId: string): Promise<void> {
  await db`insert into account_pins (account_id, target_account_id) values (${accountId}, ${targetId}) on conflict (account_id, target_account_id) do nothing`;
}

export async function deletePin(db: Db, accountId: string, targetId: string): Promise<void> {
  await db`delete from account_pins where account_id = ${accountId} and target_account_id = ${targetId}`;
}

export async function setNote(db: Db, accountId: string, targetId: string, comment: string): Promise<void> {
  if (comment === "") {
    await db`delete from account_notes where account_id = ${accountId} and target_account_id = ${targetId}`;
    return;
  }
  await db`insert into account_notes (account_id, target_account_id, comment) values (${accountId}, ${targetId}, ${comment})
    on conflict (account_id, target_account_id) do update set comment = excluded.comment, updated_at = now()`;
}

// ---- relationships ----

export interface RelationshipRow {
  id: string;
  following: boolean;
  show_reblogs: boolean | null;
  notify: boolean | null;
  languages: string[] | null;
  followed_by: boolean;
  blocking: boolean;
  blocked_by: boolean;
  muting: boolean;
  muting_notifications: boolean | null;
  muting_expires_at: Date | null;
  requested: boolean;
  request_show_reblogs: boolean | null;
  request_notify: boolean | null;
  requested_by: boolean;
  domain_blocking: boolean;
  endorsed: boolean;
  note: string | null;
}

/** Everything the Relationship entity needs for `viewerId` against each of `targetIds`, in one query. */
export async function relationships(db: Db, viewerId: string, targetIds: string[]): Promise<RelationshipRow[]> {
  if (targetIds.length === 0) return [];
  return db<RelationshipRow[]>`
    select t.id::text as id,
      f.id is not null as following, f.show_reblogs, f.notify, f.languages,
      exists (select 1 from follows x where x.account_id = t.id and x.target_account_id = ${viewerId}) as followed_by,
      exists (select 1 from blocks x where x.account_id = ${viewerId} and x.target_account_id = t.id) as blocking,
      exists (select 1 from blocks x where x.account_id = t.id and x.target_account_id = ${viewerId}) as blocked_by,
      m.id is not null as muting, m.hide_notifications as muting_notifications, m.expires_at as muting_expires_at,
      r.id is not null as requested, r.show_reblogs as request_show_reblogs, r.notify as request_notify,
      exists (select 1 from follow_requests x where x.account_id = t.id and x.target_account_id = ${viewerId}) as requested_by,
      exists (select 1 from accounts a join account_domain_blocks d on d.domain = a.domain
              where a.id = t.id and d.account_id = ${viewerId}) as domain_blocking,
      exists (select 1 from account_pins x where x.account_id = ${viewerId} and x.target_account_id = t.id) as endorsed,
      n.comment as note
    from unnest(${targetIds}::bigint[]) with ordinality as t(id, ord)
    left join follows f on f.account_id = ${viewerId} and f.target_account_id = t.id
    left join follow_requests r on r.account_id = ${viewerId} and r.target_account_id = t.id
    left join mutes m on m.account_id = ${viewerId} and m.target_account_id = t.id and ${db.unsafe(ACTIVE_MUTE)}
    left join account_notes n on n.account_id = ${viewerId} and n.target_account_id = t.id
    order by t.ord`;
}

/** For each target, the accounts the viewer follows that also follow it (and do not hide whom they follow). */
export async function familiarFollowers(db: Db, viewerId: string, targetIds: string[]): Promise<{ target: string; account: string }[]> {
  if (targetIds.length === 0) return [];
  return db<{ target: string; account: string }[]>`
    select f2.target_account_id as target, f1.target_account_id as account
    from follows f1
    join follows f2 on f2.account_id = f1.target_account_id and f2.target_account_id = any(${targetIds}::bigint[])
    join accounts a on a.id = f1.target_account_id and a.suspended_at is null and not a.hide_collections
    where f1.account_id = ${viewerId}
    order by f2.id desc`;
}

// ---- paged lists: each returns [cursor, account id] pairs, newest first (see api/pagination.ts) ----

export interface Page {
  where: ReturnType<Db["unsafe"]> | any;
  order: ReturnType<Db["unsafe"]> | any;
  limit: number;
}

export interface CursorRow {
  cursor: string;
  id: string;
}

/** The paged column is always `x.id`: callers build `page` with pageWhere(sql, sql`x.id`, params). */
export async function followerRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.account_id as id from follows x
    join accounts a on a.id = x.account_id and a.suspended_at is null
    where x.target_account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

export async function followingRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.target_account_id as id from follows x
    join accounts a on a.id = x.target_account_id and a.suspended_at is null
    where x.account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

export async function followRequestRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.account_id as id from follow_requests x
    where x.target_account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

export async function blockRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.target_account_id as id from blocks x
    where x.account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

export async function muteRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.target_account_id as id from mutes x
    where x.account_id = ${accountId} and (x.expires_at is null or x.expires_at > now()) and ${page.where}
    order by ${page.order} limit ${page.limit}`;
}

export async function pinRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.target_account_id as id from account_pins x
    where x.account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

export async function domainBlockRows(db: Db, accountId: string, page: Page): Promise<CursorRow[]> {
  return db<CursorRow[]>`select x.id as cursor, x.domain as id from account_domain_blocks x
    where x.account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

/** What blocking a domain would cut: accounts there that this one follows, and that follow it. */
export async function domainFollowCounts(db: Db, accountId: string, domain: string): Promise<{ following: number; followers: number }> {
  const [row] = await db<{ following: number; followers: number }[]>`
    select
      (select count(*)::int from follows f join accounts a on a.id = f.target_account_id
        where f.account_id = ${accountId} and lower(a.domain) = ${domain}) as following,
      (select count(*)::int from follows f join accounts a on a.id = f.account_id
        where f.target_account_id = ${accountId} and lower(a.domain) = ${domain}) as followers`;
  return row ?? { following: 0, followers: 0 };
}

// ---- tags ----

export interface TagRow {
  id: string;
  name: string;
  display_name: string;
}

export async function findTag(db: Db, name: string): Promise<TagRow | undefined> {
  const [row] = await db<TagRow[]>`select id, name, display_name from tags where name = ${name}`;
  return row;
}

/** The tag named `name` (normalised), created when missing; `displayName` is kept only on creation. */
export async function findOrCreateTag(db: Db, name: string, displayName: string): Promise<TagRow> {
  await db`insert into tags (name, display_name) values (${name}, ${displayName}) on conflict (name) do nothing`;
  return (await findTag(db, name))!;
}

export async function insertTagFollow(db: Db, accountId: string, tagId: string): Promise<void> {
  await db`insert into tag_follows (account_id, tag_id) values (${accountId}, ${tagId}) on conflict (account_id, tag_id) do nothing`;
}

export async function deleteTagFollow(db: Db, accountId: string, tagId: string): Promise<void> {
  await db`delete from tag_follows where account_id = ${accountId} and tag_id = ${tagId}`;
}

export async function followsTag(db: Db, accountId: string, tagId: string): Promise<boolean> {
  const [row] = await db`select 1 from tag_follows where account_id = ${accountId} and tag_id = ${tagId}`;
  return row !== undefined;
}

export async function followedTagRows(db: Db, accountId: string, page: Page): Promise<(TagRow & { cursor: string })[]> {
  return db<(TagRow & { cursor: string })[]>`select x.id as cursor, t.id, t.name, t.display_name
    from tag_follows x join tags t on t.id = x.tag_id
    where x.account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

/** Ids of the tags an account follows (home timeline: posts with these tags come in). */
export async function followedTagIds(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ tag_id: string }[]>`select tag_id from tag_follows where account_id = ${accountId}`;
  return rows.map((r) => r.tag_id);
}

// ---- an account's statuses (GET /api/v1/accounts/:id/statuses) ----

export interface AccountStatusFilter {
  pinned: boolean;
  excludeReplies: boolean;
  excludeReblogs: boolean;
  onlyMedia: boolean;
  tagged?: string;
}

/**
 * Ids of `accountId`'s statuses that `visible` (visibleTo(sql, viewer), over the alias `s`) lets through,
 * newest first. The page's column is `s.id`. A reply to oneself still counts as a post (Mastodon keeps
 * self-threads with exclude_replies).
 */
export async function accountStatusIds(db: Db, accountId: string, filter: AccountStatusFilter, visible: unknown, page: Page): Promise<string[]> {
  const parts = [db`s.account_id = ${accountId}`, visible as ReturnType<Db["unsafe"]>, page.where];
  if (filter.pinned) parts.push(db`exists (select 1 from status_pins p where p.status_id = s.id and p.account_id = ${accountId})`);
  if (filter.excludeReplies) parts.push(db`(s.in_reply_to_id is null or s.in_reply_to_account_id = s.account_id)`);
  if (filter.excludeReblogs) parts.push(db`s.reblog_of_id is null`);
  if (filter.onlyMedia) parts.push(db`exists (select 1 from media_attachments ma where ma.status_id = s.id)`);
  if (filter.tagged !== undefined) {
    parts.push(db`exists (select 1 from statuses_tags st join tags t on t.id = st.tag_id where st.status_id = s.id and t.name = ${filter.tagged})`);
  }
  const where = parts.reduce((a, b) => db`${a} and ${b}`);
  const rows = await db<{ id: string }[]>`select s.id from statuses s where ${where} order by ${page.order} limit ${page.limit}`;
  return rows.map((r) => r.id);
}

/** A pending request by its Follow id (an Accept or Reject names our Follow by id). */
export async function findFollowRequestByUri(db: Db, uri: string): Promise<FollowRow | undefined> {
  const [row] = await db<FollowRow[]>`select id, account_id, target_account_id, show_reblogs, notify, languages, uri
    from follow_requests where uri = ${uri}`;
  return row;
}
