/**
 * SQL for statuses and what hangs off them (edits, mentions, tags, polls, scheduled statuses). Only the
 * statuses feature calls this; other features ask through statuses/service.ts or api/entities/status.ts.
 * Reads that serve a viewer apply the visibility rule (visibility.ts) in SQL.
 */
import type { Db } from "../../infra/db";
import { visibleTo, type Visibility } from "./visibility";

export interface StatusRow {
  id: string;
  account_id: string;
  uri: string;
  url: string | null;
  text: string;
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  visibility: Visibility;
  language: string | null;
  in_reply_to_id: string | null;
  in_reply_to_account_id: string | null;
  reblog_of_id: string | null;
  conversation_id: string | null;
  application_id: string | null;
  poll_id: string | null;
  local: boolean;
  replies_count: number;
  reblogs_count: number;
  favourites_count: number;
  edited_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface PollRow {
  id: string;
  account_id: string;
  status_id: string | null;
  options: string[];
  cached_tallies: number[];
  multiple: boolean;
  hide_totals: boolean;
  votes_count: number;
  voters_count: number;
  expires_at: Date | null;
}

// ---- reading, for a viewer ----

/** A piece of SQL built with the tagged template (db`…`), to be embedded in a query here. */
export type SqlCondition = ReturnType<Db["unsafe"]>;

/** The statuses among `ids` the viewer may see (any order). Ids must be valid bigints. */
export async function findVisible(db: Db, viewerId: string | null, ids: string[]): Promise<StatusRow[]> {
  if (ids.length === 0) return [];
  return db<StatusRow[]>`select s.* from statuses s where s.id = any(${ids}::bigint[]) and ${visibleTo(db, viewerId)}`;
}

/**
 * What a page row leaves out of the statuses row: the source text (only the delete-and-redraft answer needs
 * it, and that route has the row already), and what no rendering shows. Fewer columns: less for Postgres to
 * send and for postgres.js to decode (row decoding was the largest part of a page's JavaScript).
 */
type PageRowOmits = "text" | "deleted_at" | "updated_at" | "local";

/**
 * A page row: the status, the version its cached rendering is checked against, and (for a signed-in viewer)
 * the viewer's relations to it. `cache_version` changes whenever what the cache holds can change: the
 * status's updated_at (every edit), its media (rows bump updated_at on every change; count for detaches)
 * and its card (a link or re-link changes the id, a refresh its updated_at) — so a rendering cached under it
 * is never served stale, in any process, without invalidation messages.
 */
export interface PageRow extends Omit<StatusRow, PageRowOmits> {
  cache_version: string;
  /**
   * The author's accounts and users row versions (xmin: a row gets a new one with every update, whoever
   * makes it): the rendered Account is cached under it.
   */
  account_version: string;
  /** The author was marked sensitive by a moderator: their posts show as sensitive to everyone else. */
  author_sensitized: boolean;
  /** Among the ids asked for (and meeting `where`), rather than read only as the original of a boost. */
  requested: boolean;
  v_favourited?: boolean;
  v_reblogged?: boolean;
  v_bookmarked?: boolean;
  v_pinned?: boolean;
  v_muted?: boolean;
}

/**
 * The statuses among `ids` the viewer may see, plus the visible originals of the boosts among them, with
 * their cache versions and the viewer's flags: one query for a whole page (ids must be valid bigints).
 * `where`, when given, is one more condition the statuses asked for must meet (written on `s`, and on `o`,
 * the original of a boost): the home timeline's re-check, folded in here so a page stays one statement. A
 * status that fails it is still read as the original of a boost that passes (`requested` false).
 * `ids` may also be a query that selects them (`select s.id from … limit n`): a timeline page chosen by SQL
 * is then read in the same statement as its rendering.
 */
export async function findPage(db: Db, viewerId: string | null, ids: string[] | SqlCondition, where?: SqlCondition): Promise<PageRow[]> {
  if (Array.isArray(ids) && ids.length === 0) return [];
  const flags = viewerId
    ? db`,
      exists (select 1 from favourites f where f.account_id = ${viewerId} and f.status_id = p.id) as v_favourited,
      exists (select 1 from statuses r where r.account_id = ${viewerId} and r.reblog_of_id = p.id and r.deleted_at is null) as v_reblogged,
      exists (select 1 from bookmarks b where b.account_id = ${viewerId} and b.status_id = p.id) as v_bookmarked,
      exists (select 1 from status_pins sp where sp.account_id = ${viewerId} and sp.status_id = p.id) as v_pinned,
      (p.conversation_id is not null and exists (
        select 1 from conversation_mutes cm where cm.account_id = ${viewerId} and cm.conversation_id = p.conversation_id)) as v_muted`
    : db``;
  // The statuses columns a rendering reads (PageRow), on `s` as both halves of `page` name it.
  const columns = db`s.id, s.account_id, s.uri, s.url, s.content, s.spoiler_text, s.sensitive, s.visibility, s.language,
    s.in_reply_to_id, s.in_reply_to_account_id, s.reblog_of_id, s.conversation_id, s.application_id, s.poll_id,
    s.replies_count, s.reblogs_count, s.favourites_count, s.edited_at, s.created_at, s.updated_at`;
  return db<PageRow[]>`
    with wanted as (
      select ${columns} from statuses s ${where ? db`left join statuses o on o.id = s.reblog_of_id` : db``}
      where ${Array.isArray(ids) ? db`s.id = any(${ids}::bigint[])` : db`s.id in (${ids})`} and ${visibleTo(db, viewerId)} ${where ? db`and ${where}` : db``}
    ), page as (
      select *, true as requested from wanted
      union all
      select ${columns}, false from statuses s
      where s.id in (select w.reblog_of_id from wanted w where w.reblog_of_id is not null)
        and s.id not in (select w.id from wanted w) and ${visibleTo(db, viewerId)}
    )
    select p.id, p.account_id, p.uri, p.url, p.content, p.spoiler_text, p.sensitive, p.visibility, p.language,
      p.in_reply_to_id, p.in_reply_to_account_id, p.reblog_of_id, p.conversation_id, p.application_id, p.poll_id,
      p.replies_count, p.reblogs_count, p.favourites_count, p.edited_at, p.created_at, p.requested,
      p.updated_at::text
        || '|' || (select count(*)::text || '/' || coalesce(max(m.updated_at)::text, '') from media_attachments m where m.status_id = p.id)
        || '|' || coalesce((select pcs.preview_card_id::text || '/' || c.updated_at::text
                              from preview_cards_statuses pcs join preview_cards c on c.id = pcs.preview_card_id
                              where pcs.status_id = p.id), '') as cache_version,
      a.xmin::text || '/' || coalesce((select u.xmin::text from users u where u.account_id = a.id), '') as account_version,
      a.sensitized_at is not null as author_sensitized
      ${flags}
    from page p join accounts a on a.id = p.account_id`;
}

/** A status by id whatever its visibility (not deleted); for the author's own changes. */
export async function findLive(db: Db, id: string): Promise<StatusRow | undefined> {
  const [row] = await db<StatusRow[]>`select * from statuses where id = ${id} and deleted_at is null`;
  return row;
}

/** Same, locked for an update inside a transaction. */
export async function findLiveForUpdate(db: Db, id: string): Promise<StatusRow | undefined> {
  const [row] = await db<StatusRow[]>`select * from statuses where id = ${id} and deleted_at is null for update`;
  return row;
}

export interface MentionRow {
  status_id: string;
  account_id: string;
  username: string;
  domain: string | null;
  url: string | null;
  uri: string;
}

export async function mentionsOf(db: Db, statusIds: string[]): Promise<MentionRow[]> {
  if (statusIds.length === 0) return [];
  return db<MentionRow[]>`
    select m.status_id, m.account_id, a.username, a.domain, a.url, a.uri
    from mentions m join accounts a on a.id = m.account_id
    where m.status_id = any(${statusIds}::bigint[]) and not m.silent
    order by m.id`;
}

export async function tagsOf(db: Db, statusIds: string[]): Promise<{ status_id: string; name: string }[]> {
  if (statusIds.length === 0) return [];
  return db`
    select st.status_id, t.name from statuses_tags st join tags t on t.id = st.tag_id
    where st.status_id = any(${statusIds}::bigint[]) order by t.name`;
}

export async function pollsByIds(db: Db, pollIds: string[]): Promise<PollRow[]> {
  if (pollIds.length === 0) return [];
  return db<PollRow[]>`select * from polls where id = any(${pollIds}::bigint[])`;
}

export async function pollVotesOf(db: Db, accountId: string, pollIds: string[]): Promise<{ poll_id: string; choice: number }[]> {
  if (pollIds.length === 0) return [];
  return db`select poll_id, choice from poll_votes where account_id = ${accountId} and poll_id = any(${pollIds}::bigint[]) order by choice`;
}

export async function applicationsByIds(db: Db, ids: string[]): Promise<{ id: string; name: string; website: string | null }[]> {
  if (ids.length === 0) return [];
  return db`select id, name, website from oauth_applications where id = any(${ids}::bigint[])`;
}

// ---- thread walking (context) ----

/** Ancestors of a status, nearest first, up to `limit`, with no visibility applied (the caller filters). */
export async function ancestorIds(db: Db, statusId: string, limit: number): Promise<{ id: string; account_id: string }[]> {
  return db`
    with recursive up(id, account_id, parent, depth) as (
      select s.id, s.account_id, s.in_reply_to_id, 0 from statuses s where s.id = ${statusId}
      union all
      select p.id, p.account_id, p.in_reply_to_id, up.depth + 1 from up join statuses p on p.id = up.parent where up.depth < ${limit}
    )
    select id, account_id from up where depth > 0 order by depth`;
}

/** Direct replies of many statuses at once that the viewer may see, oldest first. */
export async function visibleRepliesOf(
  db: Db,
  viewerId: string | null,
  parentIds: string[],
  limit: number,
): Promise<{ id: string; in_reply_to_id: string; account_id: string }[]> {
  if (parentIds.length === 0) return [];
  return db`
    select s.id, s.in_reply_to_id, s.account_id from statuses s
    where s.in_reply_to_id = any(${parentIds}::bigint[]) and s.reblog_of_id is null and ${visibleTo(db, viewerId)}
    order by s.id limit ${limit}`;
}

// ---- writing ----

export interface NewStatus {
  id: string;
  accountId: string;
  uri: string;
  url: string;
  text: string;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: Visibility;
  language: string | null;
  inReplyToId: string | null;
  inReplyToAccountId: string | null;
  conversationId: string;
  applicationId: string | null;
}

export async function newId(db: Db): Promise<string> {
  const [row] = await db<{ id: string }[]>`select woolly_id()::text as id`;
  return row!.id;
}

export async function insertConversation(db: Db): Promise<string> {
  const [row] = await db<{ id: string }[]>`insert into conversations default values returning id`;
  return row!.id;
}

export async function insertStatus(db: Db, s: NewStatus): Promise<void> {
  await db`
    insert into statuses (id, account_id, uri, url, text, content, spoiler_text, sensitive, visibility, language,
                          in_reply_to_id, in_reply_to_account_id, conversation_id, application_id)
    values (${s.id}, ${s.accountId}, ${s.uri}, ${s.url}, ${s.text}, ${s.content}, ${s.spoilerText}, ${s.sensitive},
            ${s.visibility}, ${s.language}, ${s.inReplyToId}, ${s.inReplyToAccountId}, ${s.conversationId}, ${s.applicationId})`;
}

/**
 * A new local status in one statement: its id, uri and url (which contain the id), a new conversation
 * unless it joins its parent's, and (when it counts) the author's statuses_count and last_status_at — one
 * round trip where four were. Returns the id.
 */
export async function insertLocalStatus(
  db: Db,
  s: Omit<NewStatus, "id" | "uri" | "url" | "conversationId"> & { uriPrefix: string; urlPrefix: string; conversationId: string | null; countsForAuthor: boolean },
): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    with new_id as (select woolly_id() as id),
         conv as (insert into conversations (id) select woolly_id() where ${s.conversationId}::bigint is null returning id),
         author as (update accounts set statuses_count = statuses_count + 1, last_status_at = now()
                    where id = ${s.accountId} and ${s.countsForAuthor}::boolean returning id)
    insert into statuses (id, account_id, uri, url, text, content, spoiler_text, sensitive, visibility, language,
                          in_reply_to_id, in_reply_to_account_id, conversation_id, application_id)
    select n.id, ${s.accountId}, ${s.uriPrefix} || n.id::text, ${s.urlPrefix} || n.id::text, ${s.text}, ${s.content}, ${s.spoilerText},
           ${s.sensitive}, ${s.visibility}, ${s.language}, ${s.inReplyToId}, ${s.inReplyToAccountId},
           coalesce(${s.conversationId}::bigint, (select id from conv)), ${s.applicationId}
    from new_id n
    returning id::text as id`;
  return row!.id;
}

export async function insertMentions(db: Db, statusId: string, accountIds: string[]): Promise<void> {
  if (accountIds.length === 0) return;
  await db`
    insert into mentions (status_id, account_id)
    select ${statusId}, unnest(${accountIds}::bigint[]) on conflict do nothing`;
}

/**
 * After an edit: the mentions in the new text are live, earlier ones become silent (kept, as Mastodon does:
 * whoever was mentioned has been told and keeps access, but is no longer shown as mentioned).
 */
export async function replaceMentions(db: Db, statusId: string, accountIds: string[]): Promise<void> {
  if (accountIds.length > 0) {
    await db`
      insert into mentions (status_id, account_id) select ${statusId}, unnest(${accountIds}::bigint[])
      on conflict (status_id, account_id) do update set silent = false`;
  }
  await db`update mentions set silent = true where status_id = ${statusId} and not (account_id = any(${accountIds}::bigint[]))`;
}

/** Upsert tags by normalised name and link them to the status. */
export async function linkTags(db: Db, statusId: string, tags: { name: string; display: string }[]): Promise<void> {
  if (tags.length === 0) return;
  // One statement: upsert the tags, link what the upsert returns.
  await db`
    with t as (
      insert into tags (name, display_name, last_status_at)
      select n, d, now() from unnest(${tags.map((t) => t.name)}::text[], ${tags.map((t) => t.display)}::text[]) as x(n, d)
      on conflict (name) do update set last_status_at = now()
      returning id
    )
    insert into statuses_tags (status_id, tag_id) select ${statusId}, t.id from t
    on conflict do nothing`;
}

export async function unlinkTags(db: Db, statusId: string): Promise<void> {
  await db`delete from statuses_tags where status_id = ${statusId}`;
}

export async function insertPoll(
  db: Db,
  p: { accountId: string; statusId: string; options: string[]; multiple: boolean; hideTotals: boolean; expiresAt: Date },
): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into polls (account_id, status_id, options, cached_tallies, multiple, hide_totals, expires_at)
    values (${p.accountId}, ${p.statusId}, ${p.options}::text[], ${p.options.map(() => 0)}::int[], ${p.multiple}, ${p.hideTotals}, ${p.expiresAt})
    returning id`;
  await db`update statuses set poll_id = ${row!.id} where id = ${p.statusId}`;
  return row!.id;
}

export async function deletePoll(db: Db, pollId: string): Promise<void> {
  await db`delete from polls where id = ${pollId}`;
}

export async function bumpRepliesCount(db: Db, statusId: string, by: 1 | -1): Promise<void> {
  await db`update statuses set replies_count = greatest(replies_count + ${by}, 0) where id = ${statusId}`;
}

export async function bumpReblogsCount(db: Db, statusId: string, by: 1 | -1): Promise<void> {
  await db`update statuses set reblogs_count = greatest(reblogs_count + ${by}, 0) where id = ${statusId}`;
}

export async function bumpAccountStatuses(db: Db, accountId: string, by: 1 | -1): Promise<void> {
  if (by === 1) await db`update accounts set statuses_count = statuses_count + 1, last_status_at = now() where id = ${accountId}`;
  else await db`update accounts set statuses_count = greatest(statuses_count - 1, 0) where id = ${accountId}`;
}

export async function markDeleted(db: Db, statusId: string): Promise<void> {
  await db`update statuses set deleted_at = now(), updated_at = now() where id = ${statusId}`;
}

/** Boosts of a deleted status go with it (Mastodon removes reblogs when the original is removed). */
export async function markReblogsDeleted(db: Db, statusId: string): Promise<{ id: string; account_id: string }[]> {
  return db`update statuses set deleted_at = now() where reblog_of_id = ${statusId} and deleted_at is null returning id, account_id`;
}

export async function updateContent(
  db: Db,
  id: string,
  c: { text: string; content: string; spoilerText: string; sensitive: boolean; language: string | null },
): Promise<void> {
  await db`
    update statuses set text = ${c.text}, content = ${c.content}, spoiler_text = ${c.spoilerText}, sensitive = ${c.sensitive},
                        language = ${c.language}, edited_at = now(), updated_at = now()
    where id = ${id}`;
}

// ---- edits ----

export interface EditRow {
  id: string;
  status_id: string;
  account_id: string;
  text: string;
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  media_attachment_ids: string[];
  poll_options: string[] | null;
  created_at: Date;
}

export async function insertEdit(
  db: Db,
  e: { statusId: string; accountId: string; text: string; content: string; spoilerText: string; sensitive: boolean; mediaIds: string[]; pollOptions: string[] | null; createdAt: Date },
): Promise<void> {
  await db`
    insert into status_edits (status_id, account_id, text, content, spoiler_text, sensitive, media_attachment_ids, poll_options, created_at)
    values (${e.statusId}, ${e.accountId}, ${e.text}, ${e.content}, ${e.spoilerText}, ${e.sensitive}, ${e.mediaIds}::bigint[],
            ${e.pollOptions}::text[], ${e.createdAt})`;
}

export async function editsOf(db: Db, statusId: string): Promise<EditRow[]> {
  return db<EditRow[]>`select * from status_edits where status_id = ${statusId} order by created_at, id`;
}

// ---- scheduled statuses ----

export interface ScheduledRow {
  id: string;
  account_id: string;
  scheduled_at: Date;
  params: Record<string, unknown>;
  created_at: Date;
}

export async function insertScheduled(db: Db, accountId: string, scheduledAt: Date, params: Record<string, unknown>): Promise<ScheduledRow> {
  const [row] = await db<ScheduledRow[]>`
    insert into scheduled_statuses (account_id, scheduled_at, params) values (${accountId}, ${scheduledAt}, ${db.json(params as never)})
    returning *`;
  return row!;
}

/** A page as api/pagination.ts's pageWhere builds it (SQL fragments over the `id` column). */
export interface Page {
  where: ReturnType<Db["unsafe"]> | any;
  order: ReturnType<Db["unsafe"]> | any;
  limit: number;
}

export async function scheduledOf(db: Db, accountId: string, page: Page): Promise<ScheduledRow[]> {
  return db<ScheduledRow[]>`
    select * from scheduled_statuses where account_id = ${accountId} and ${page.where} order by ${page.order} limit ${page.limit}`;
}

export async function findScheduled(db: Db, accountId: string, id: string): Promise<ScheduledRow | undefined> {
  const [row] = await db<ScheduledRow[]>`select * from scheduled_statuses where id = ${id} and account_id = ${accountId}`;
  return row;
}

export async function reschedule(db: Db, accountId: string, id: string, at: Date): Promise<ScheduledRow | undefined> {
  const [row] = await db<ScheduledRow[]>`update scheduled_statuses set scheduled_at = ${at} where id = ${id} and account_id = ${accountId} returning *`;
  return row;
}

export async function deleteScheduled(db: Db, id: string): Promise<ScheduledRow | undefined> {
  const [row] = await db<ScheduledRow[]>`delete from scheduled_statuses where id = ${id} returning *`;
  return row;
}

export async function dueScheduledIds(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select id from scheduled_statuses where scheduled_at <= ${now} order by scheduled_at limit ${limit}`;
  return rows.map((r) => r.id);
}

export async function findScheduledById(db: Db, id: string): Promise<ScheduledRow | undefined> {
  const [row] = await db<ScheduledRow[]>`select * from scheduled_statuses where id = ${id}`;
  return row;
}

/** Claim a due row: deleting it inside the publishing transaction makes a second run find nothing. */
export async function claimScheduled(db: Db, id: string): Promise<boolean> {
  const rows = await db`delete from scheduled_statuses where id = ${id} returning id`;
  return rows.length > 0;
}

/** How many the account has scheduled in all, and on the UTC day of `at` (Mastodon's two limits). */
export async function scheduledCounts(db: Db, accountId: string, at: Date): Promise<{ total: number; sameDay: number }> {
  const [row] = await db<{ total: number; same_day: number }[]>`
    select count(*)::int as total,
           count(*) filter (where date_trunc('day', scheduled_at at time zone 'UTC') = date_trunc('day', ${at}::timestamptz at time zone 'UTC'))::int as same_day
    from scheduled_statuses where account_id = ${accountId}`;
  return { total: row!.total, sameDay: row!.same_day };
}

// ---- remote statuses (federation inbound, features/federation/remote-statuses.ts) ----

export interface NewRemoteStatus extends Omit<NewStatus, "id" | "applicationId" | "url" | "conversationId"> {
  url: string | null;
  /** The parent's conversation; null starts a new one (in the same statement). */
  conversationId: string | null;
  /** When the origin says it was published: the id is drawn from it (time-sortable, as Mastodon's Snowflake). */
  publishedAt: Date;
  editedAt: Date | null;
  /** Count it in the author's statuses_count (not for direct posts). */
  countForAccount: boolean;
}

/**
 * Insert a remote status, its conversation (when new) and the author's statuses_count in one statement (one
 * round trip: inbound floods are made of these). Undefined when its uri is already stored
 * (statuses_remote_uri, migration 0012), so the same object arriving twice makes one row; nothing else is
 * written then.
 */
export async function insertRemoteStatus(db: Db, s: NewRemoteStatus): Promise<string | undefined> {
  const [row] = await db<{ id: string }[]>`
    with conversation as (
      insert into conversations select where ${s.conversationId}::bigint is null returning id
    ), inserted as (
      insert into statuses (id, account_id, uri, url, text, content, spoiler_text, sensitive, visibility, language,
                            in_reply_to_id, in_reply_to_account_id, conversation_id, local, edited_at, created_at, updated_at)
      values (woolly_id(${s.publishedAt}), ${s.accountId}, ${s.uri}, ${s.url}, '', ${s.content}, ${s.spoilerText}, ${s.sensitive},
              ${s.visibility}, ${s.language}, ${s.inReplyToId}, ${s.inReplyToAccountId},
              coalesce(${s.conversationId}::bigint, (select id from conversation)), false, ${s.editedAt}, ${s.publishedAt}, now())
      on conflict (uri) where local = false do nothing
      returning id
    ), counted as (
      update accounts set statuses_count = statuses_count + 1, last_status_at = now()
      where id = ${s.accountId} and ${s.countForAccount}::boolean and exists (select 1 from inserted)
    )
    select id::text from inserted`;
  return row?.id;
}

/** A remote poll with the tallies its origin reports. */
export async function insertRemotePoll(
  db: Db,
  p: { accountId: string; statusId: string; options: string[]; tallies: number[]; multiple: boolean; expiresAt: Date | null; votersCount: number },
): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into polls (account_id, status_id, options, cached_tallies, multiple, expires_at, votes_count, voters_count)
    values (${p.accountId}, ${p.statusId}, ${p.options}::text[], ${p.tallies}::int[], ${p.multiple}, ${p.expiresAt},
            ${p.tallies.reduce((a, b) => a + b, 0)}, ${p.votersCount})
    returning id`;
  await db`update statuses set poll_id = ${row!.id} where id = ${p.statusId}`;
  return row!.id;
}

export async function updateRemotePollCounts(db: Db, pollId: string, tallies: number[], votersCount: number, expiresAt: Date | null): Promise<void> {
  await db`
    update polls set cached_tallies = ${tallies}::int[], votes_count = ${tallies.reduce((a, b) => a + b, 0)}, voters_count = ${votersCount},
                     expires_at = ${expiresAt}, updated_at = now()
    where id = ${pollId}`;
}

/** A reply whose parent arrived later: link them. */
export async function setParent(db: Db, statusId: string, parentId: string, parentAccountId: string, conversationId: string | null): Promise<void> {
  await db`
    update statuses set in_reply_to_id = ${parentId}, in_reply_to_account_id = ${parentAccountId},
                        conversation_id = coalesce(${conversationId}, conversation_id)
    where id = ${statusId} and in_reply_to_id is null`;
}

/** A remote edit: the edit time is the origin's. */
export async function updateRemoteContent(
  db: Db,
  id: string,
  c: { content: string; spoilerText: string; sensitive: boolean; language: string | null; editedAt: Date },
): Promise<void> {
  await db`
    update statuses set content = ${c.content}, spoiler_text = ${c.spoilerText}, sensitive = ${c.sensitive},
                        language = ${c.language}, edited_at = ${c.editedAt}, updated_at = now()
    where id = ${id}`;
}
