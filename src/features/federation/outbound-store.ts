/**
 * Read-only SQL for the outbound side of federation: statuses with what a Note needs (author, mentions,
 * tags, media, poll, parent), the inboxes an activity goes to, and the pages of the outbox, featured and
 * replies collections. Tables owned by other features (statuses, follows, favourites…) are only read here;
 * nothing is written.
 */
import type { Db } from "../../infra/db";
import type { Visibility } from "../statuses/visibility";

export interface OutboundStatusRow {
  id: string;
  account_id: string;
  uri: string;
  url: string | null;
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  visibility: Visibility;
  language: string | null;
  in_reply_to_id: string | null;
  reblog_of_id: string | null;
  conversation_id: string | null;
  conversation_uri: string | null;
  poll_id: string | null;
  local: boolean;
  replies_count: number;
  edited_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
  author_uri: string;
  author_username: string;
  author_domain: string | null;
  parent_uri: string | null;
}

/** Statuses by id, deleted ones included (a Delete still needs their addressing). */
export async function statusesByIds(db: Db, ids: string[]): Promise<OutboundStatusRow[]> {
  if (ids.length === 0) return [];
  return db<OutboundStatusRow[]>`
    select s.id, s.account_id, s.uri, s.url, s.content, s.spoiler_text, s.sensitive, s.visibility, s.language,
           s.in_reply_to_id, s.reblog_of_id, s.conversation_id, c.uri as conversation_uri, s.poll_id, s.local,
           s.replies_count, s.edited_at, s.deleted_at, s.created_at,
           a.uri as author_uri, a.username as author_username, a.domain as author_domain, p.uri as parent_uri
    from statuses s
    join accounts a on a.id = s.account_id
    left join conversations c on c.id = s.conversation_id
    left join statuses p on p.id = s.in_reply_to_id
    where s.id = any(${ids}::bigint[])`;
}

export interface MentionedAccount {
  status_id: string;
  account_id: string;
  uri: string;
  username: string;
  domain: string | null;
  inbox_url: string | null;
  shared_inbox_url: string | null;
}

/** Every mentioned account (silent ones too: a reply notifies its parent's author without a visible @). */
export async function mentionedAccounts(db: Db, statusIds: string[]): Promise<MentionedAccount[]> {
  if (statusIds.length === 0) return [];
  return db<MentionedAccount[]>`
    select m.status_id, a.id as account_id, a.uri, a.username, a.domain, a.inbox_url, a.shared_inbox_url
    from mentions m join accounts a on a.id = m.account_id
    where m.status_id = any(${statusIds}::bigint[]) and a.suspended_at is null
    order by m.id`;
}

export async function tagNames(db: Db, statusIds: string[]): Promise<{ status_id: string; name: string }[]> {
  if (statusIds.length === 0) return [];
  return db`select st.status_id, t.name from statuses_tags st join tags t on t.id = st.tag_id
    where st.status_id = any(${statusIds}::bigint[]) order by t.name`;
}

export interface OutboundMediaRow {
  status_id: string;
  file_key: string | null;
  remote_url: string | null;
  content_type: string | null;
  type: string;
  description: string | null;
  blurhash: string | null;
  focus: { x: number; y: number } | null;
  meta: Record<string, unknown>;
}

export async function mediaOf(db: Db, statusIds: string[]): Promise<OutboundMediaRow[]> {
  if (statusIds.length === 0) return [];
  return db<OutboundMediaRow[]>`
    select status_id, file_key, remote_url, content_type, type, description, blurhash, focus, meta
    from media_attachments where status_id = any(${statusIds}::bigint[]) and processing = 'done' order by id`;
}

export interface OutboundPollRow {
  id: string;
  options: string[];
  cached_tallies: number[];
  multiple: boolean;
  expires_at: Date | null;
  voters_count: number;
}

export async function pollsOf(db: Db, pollIds: string[]): Promise<OutboundPollRow[]> {
  if (pollIds.length === 0) return [];
  return db<OutboundPollRow[]>`select id, options, cached_tallies, multiple, expires_at, voters_count from polls where id = any(${pollIds}::bigint[])`;
}

// ---- inboxes ----

/** Remote followers' inboxes (shared when they have one), one per server where possible. */
export async function followerInboxes(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ inbox: string }[]>`
    select distinct coalesce(nullif(a.shared_inbox_url, ''), a.inbox_url) as inbox
    from follows f join accounts a on a.id = f.account_id
    where f.target_account_id = ${accountId} and a.domain is not null and a.suspended_at is null
      and coalesce(nullif(a.shared_inbox_url, ''), a.inbox_url) is not null`;
  return rows.map((r) => r.inbox);
}

/** Inboxes of remote accounts that the account follows or that follow it: everyone who holds its profile. */
export async function relationshipInboxes(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ inbox: string }[]>`
    select distinct coalesce(nullif(a.shared_inbox_url, ''), a.inbox_url) as inbox
    from accounts a
    where a.domain is not null and a.suspended_at is null
      and coalesce(nullif(a.shared_inbox_url, ''), a.inbox_url) is not null
      and (exists (select 1 from follows f where f.account_id = a.id and f.target_account_id = ${accountId})
        or exists (select 1 from follows f where f.target_account_id = a.id and f.account_id = ${accountId})
        or exists (select 1 from follow_requests r where r.target_account_id = a.id and r.account_id = ${accountId}))`;
  return rows.map((r) => r.inbox);
}

/** Remote accounts that boosted a status or that it replies to: their servers hold a copy of it. */
export async function copyHolderInboxes(db: Db, statusId: string): Promise<string[]> {
  const rows = await db<{ inbox: string }[]>`
    select distinct coalesce(nullif(a.shared_inbox_url, ''), a.inbox_url) as inbox
    from accounts a
    where a.domain is not null and a.suspended_at is null and coalesce(nullif(a.shared_inbox_url, ''), a.inbox_url) is not null
      and (a.id in (select r.account_id from statuses r where r.reblog_of_id = ${statusId})
        or a.id = (select s.in_reply_to_account_id from statuses s where s.id = ${statusId}))`;
  return rows.map((r) => r.inbox);
}

export interface AccountRef {
  id: string;
  uri: string;
  username: string;
  domain: string | null;
  inbox_url: string | null;
  shared_inbox_url: string | null;
  private_key: string | null;
  locked: boolean;
}

export async function accountRefs(db: Db, ids: string[]): Promise<Map<string, AccountRef>> {
  if (ids.length === 0) return new Map();
  const rows = await db<AccountRef[]>`
    select id, uri, username, domain, inbox_url, shared_inbox_url, private_key, locked from accounts where id = any(${ids}::bigint[])`;
  return new Map(rows.map((r) => [r.id, r]));
}

export async function privateKeyOf(db: Db, accountId: string): Promise<{ uri: string; private_key: string } | undefined> {
  const [row] = await db<{ uri: string; private_key: string }[]>`
    select uri, private_key from accounts where id = ${accountId} and domain is null and private_key is not null`;
  return row;
}

// ---- relationships rows for Accept / Reject / Undo ----

export async function followRow(db: Db, table: "follows" | "follow_requests", accountId: string, targetId: string): Promise<{ id: string; uri: string | null } | undefined> {
  const [row] =
    table === "follows"
      ? await db<{ id: string; uri: string | null }[]>`select id, uri from follows where account_id = ${accountId} and target_account_id = ${targetId}`
      : await db<{ id: string; uri: string | null }[]>`select id, uri from follow_requests where account_id = ${accountId} and target_account_id = ${targetId}`;
  return row;
}

export async function favouriteRow(db: Db, accountId: string, statusId: string): Promise<{ id: string } | undefined> {
  const [row] = await db<{ id: string }[]>`select id from favourites where account_id = ${accountId} and status_id = ${statusId}`;
  return row;
}

export async function blockRow(db: Db, accountId: string, targetId: string): Promise<{ id: string } | undefined> {
  const [row] = await db<{ id: string }[]>`select id from blocks where account_id = ${accountId} and target_account_id = ${targetId}`;
  return row;
}

// ---- collections ----

/** A local account's public and unlisted posts and boosts, newest first, below `maxId` when given. */
export async function outboxIds(db: Db, accountId: string, maxId: string | null, limit: number): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select s.id from statuses s
    where s.account_id = ${accountId} and s.deleted_at is null and s.visibility in ('public', 'unlisted')
      and (${maxId}::bigint is null or s.id < ${maxId}::bigint)
      and (s.reblog_of_id is null or exists (
        select 1 from statuses o where o.id = s.reblog_of_id and o.deleted_at is null and o.visibility in ('public', 'unlisted')))
    order by s.id desc limit ${limit}`;
  return rows.map((r) => r.id);
}

export async function pinnedIds(db: Db, accountId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select s.id from status_pins p join statuses s on s.id = p.status_id
    where p.account_id = ${accountId} and s.deleted_at is null and s.visibility in ('public', 'unlisted')
    order by p.id desc limit 40`;
  return rows.map((r) => r.id);
}

/** Public / unlisted replies to a status, oldest first, after `minId` when given. */
export async function replyUris(db: Db, statusId: string, minId: string | null, limit: number): Promise<{ id: string; uri: string }[]> {
  return db<{ id: string; uri: string }[]>`
    select id, uri from statuses
    where in_reply_to_id = ${statusId} and deleted_at is null and visibility in ('public', 'unlisted')
      and (${minId}::bigint is null or id > ${minId}::bigint)
    order by id limit ${limit}`;
}
