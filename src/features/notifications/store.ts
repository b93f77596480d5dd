/**
 * SQL for notifications: what subscribers need to decide whether to notify, the insert (one per cause,
 * guarded by the notifications_once index), and the reads behind the v1 list and v2 groups.
 * The notification policy lives in users.settings (key notification_policy), read and written here because
 * it is only ever used by notifications.
 */
import type { Db } from "../../infra/db";

export type NotificationType = "mention" | "status" | "reblog" | "follow" | "follow_request" | "favourite" | "poll" | "update" | "admin.sign_up" | "admin.report";
export const NOTIFICATION_TYPES: readonly NotificationType[] = [
  "mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.sign_up", "admin.report",
];

export interface NotificationRow {
  id: string;
  account_id: string;
  from_account_id: string;
  type: NotificationType;
  status_id: string | null;
  group_key: string;
  filtered: boolean;
  created_at: Date;
}

// ---- deciding ----

/** Facts about a (recipient, sender) pair that the rules of NotifyService look at. */
export interface PairFacts {
  local: boolean;
  blocking: boolean;
  muting: boolean;
  domain_blocking: boolean;
  following: boolean;
  followed_by: boolean;
  sender_new: boolean;
  sender_limited: boolean;
  conversation_muted: boolean;
  /** The recipient accepted a request from this sender: never filtered. */
  permitted: boolean;
  policy: Record<string, unknown> | null;
}

export async function pairFacts(sql: Db, recipientId: string, senderId: string, statusId: string | null): Promise<PairFacts | undefined> {
  const [row] = await sql<PairFacts[]>`
    select
      exists (select 1 from users u where u.account_id = r.id) as local,
      exists (select 1 from blocks where account_id = r.id and target_account_id = s.id) as blocking,
      exists (select 1 from mutes where account_id = r.id and target_account_id = s.id and hide_notifications
                and (expires_at is null or expires_at > now())) as muting,
      (s.domain is not null and exists (select 1 from account_domain_blocks where account_id = r.id and domain = s.domain)) as domain_blocking,
      exists (select 1 from follows where account_id = r.id and target_account_id = s.id) as following,
      exists (select 1 from follows where account_id = s.id and target_account_id = r.id) as followed_by,
      s.created_at > now() - interval '30 days' as sender_new,
      s.silenced_at is not null as sender_limited,
      (${statusId}::bigint is not null and exists (
        select 1 from conversation_mutes cm join statuses st on st.conversation_id = cm.conversation_id
        where cm.account_id = r.id and st.id = ${statusId}::bigint)) as conversation_muted,
      exists (select 1 from notification_permissions where account_id = r.id and from_account_id = s.id) as permitted,
      (select u.settings -> 'notification_policy' from users u where u.account_id = r.id) as policy
    from accounts r, accounts s where r.id = ${recipientId} and s.id = ${senderId}`;
  return row;
}

/** The status fields subscribers look at (undefined when missing or deleted). */
export async function findStatus(sql: Db, statusId: string) {
  const [row] = await sql<{ id: string; account_id: string; visibility: string; reblog_of_id: string | null; in_reply_to_account_id: string | null }[]>`
    select id, account_id, visibility, reblog_of_id, in_reply_to_account_id from statuses where id = ${statusId} and deleted_at is null`;
  return row;
}

/** Local accounts a status mentions (not silently). */
export async function mentionedLocalAccounts(sql: Db, statusId: string): Promise<string[]> {
  const rows = await sql<{ account_id: string }[]>`
    select m.account_id from mentions m join users u on u.account_id = m.account_id
    where m.status_id = ${statusId} and not m.silent`;
  return rows.map((r) => r.account_id);
}

/** Local followers who asked to be told when this account posts (follow with notify=true). */
export async function notifyingFollowers(sql: Db, accountId: string): Promise<string[]> {
  const rows = await sql<{ account_id: string }[]>`
    select f.account_id from follows f join users u on u.account_id = f.account_id
    where f.target_account_id = ${accountId} and f.notify`;
  return rows.map((r) => r.account_id);
}

/** Local accounts that currently boost the status. */
export async function localRebloggers(sql: Db, statusId: string): Promise<string[]> {
  const rows = await sql<{ account_id: string }[]>`
    select distinct s.account_id from statuses s join users u on u.account_id = s.account_id
    where s.reblog_of_id = ${statusId} and s.deleted_at is null`;
  return rows.map((r) => r.account_id);
}

// ---- writing ----

/** The latest group key starting with `prefix-` for this recipient (to keep adding to a recent group). */
export async function latestGroupKey(sql: Db, accountId: string, prefix: string): Promise<string | undefined> {
  const [row] = await sql<{ group_key: string }[]>`
    select group_key from notifications
    where account_id = ${accountId} and group_key like ${prefix.replace(/[\\%_]/g, "\\$&") + "-%"} and not filtered
    order by id desc limit 1`;
  return row?.group_key;
}

export async function newId(sql: Db): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select woolly_id() as id`;
  return row!.id;
}

/** Insert once per cause; undefined when this cause already notified (a retried job, a repeated favourite). */
export async function insertNotification(
  sql: Db,
  n: { id: string; accountId: string; fromAccountId: string; type: NotificationType; statusId: string | null; groupKey: string; filtered: boolean },
): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    insert into notifications (id, account_id, from_account_id, type, status_id, group_key, filtered)
    values (${n.id}, ${n.accountId}, ${n.fromAccountId}, ${n.type}, ${n.statusId}, ${n.groupKey}, ${n.filtered})
    on conflict do nothing returning id`;
  return row?.id;
}

export async function deleteNotificationsFor(sql: Db, n: { accountId: string; fromAccountId: string; type: NotificationType; statusId: string }): Promise<void> {
  await sql`delete from notifications where account_id = ${n.accountId} and from_account_id = ${n.fromAccountId} and type = ${n.type} and status_id = ${n.statusId}`;
}

// ---- reading ----

export interface ListFilter {
  types?: string[];
  excludeTypes?: string[];
  fromAccountId?: string;
  includeFiltered?: boolean;
}

function filterSql(sql: Db, accountId: string, f: ListFilter) {
  return sql`n.account_id = ${accountId}
    ${f.includeFiltered ? sql`` : sql`and not n.filtered`}
    ${f.types?.length ? sql`and n.type = any(${f.types}::text[])` : sql``}
    ${f.excludeTypes?.length ? sql`and not (n.type = any(${f.excludeTypes}::text[]))` : sql``}
    ${f.fromAccountId ? sql`and n.from_account_id = ${f.fromAccountId}` : sql``}`;
}

export async function listNotifications(sql: Db, accountId: string, f: ListFilter, page: { where: any; order: any; limit: number }): Promise<NotificationRow[]> {
  return sql<NotificationRow[]>`
    select n.* from notifications n where ${filterSql(sql, accountId, f)} and ${page.where}
    order by ${page.order} limit ${page.limit}`;
}

export async function findNotification(sql: Db, accountId: string, id: string): Promise<NotificationRow | undefined> {
  const [row] = await sql<NotificationRow[]>`select n.* from notifications n where n.account_id = ${accountId} and n.id = ${id}`;
  return row;
}

export async function deleteNotification(sql: Db, accountId: string, id: string): Promise<void> {
  await sql`delete from notifications where account_id = ${accountId} and id = ${id}`;
}

export async function clearNotifications(sql: Db, accountId: string): Promise<void> {
  await sql`delete from notifications where account_id = ${accountId}`;
}

/** How many (up to `cap`) visible notifications are newer than `afterId`. */
export async function countAfter(sql: Db, accountId: string, afterId: string, f: ListFilter, cap: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select 1 from notifications n where ${filterSql(sql, accountId, f)} and n.id > ${afterId} limit ${cap}) x`;
  return row?.n ?? 0;
}

// ---- groups (v2) ----

/** The group a notification shows in: its stored key when its type is grouped, else its own. */
function groupExpr(sql: Db, groupedTypes: string[]) {
  return sql`(case when n.type = any(${groupedTypes}::text[]) then n.group_key else 'ungrouped-' || n.id end)`;
}

/** How many notifications one page of groups looks at, at most. */
const GROUPING_WINDOW = 4000;

/** The keys of the groups on one page and the id range the page covers (Mastodon's paginate_groups). */
export async function pageGroupKeys(
  sql: Db,
  accountId: string,
  f: ListFilter,
  groupedTypes: string[],
  page: { maxId?: string; sinceId?: string; minId?: string; limit: number },
): Promise<{ keys: string[]; lower: string; upper: string } | undefined> {
  const bounds = sql`${page.maxId ? sql`and n.id < ${page.maxId}` : sql``}
    ${page.minId ? sql`and n.id > ${page.minId}` : page.sinceId ? sql`and n.id > ${page.sinceId}` : sql``}`;
  // Newest groups first; a min_id page walks up from the cursor instead (oldest groups just above it).
  // Only a window of the nearest notifications is grouped: a group's head lies in the window whenever the
  // group belongs on this page, and a page that finds fewer groups there is merely short, never gappy
  // (the next page starts below the lowest head taken).
  const window = sql`(select n.* from notifications n where ${filterSql(sql, accountId, f)} ${bounds}
    order by n.id ${page.minId ? sql`asc` : sql`desc`} limit ${GROUPING_WINDOW}) n`;
  const rows = page.minId
    ? await sql<{ gk: string; edge: string }[]>`
        select ${groupExpr(sql, groupedTypes)} as gk, min(n.id) as edge from ${window} group by 1 order by 2 asc limit ${page.limit}`
    : await sql<{ gk: string; edge: string }[]>`
        select ${groupExpr(sql, groupedTypes)} as gk, max(n.id) as edge from ${window} group by 1 order by 2 desc limit ${page.limit}`;
  if (rows.length === 0) return undefined;
  const edges = rows.map((r) => BigInt(r.edge));
  const min = edges.reduce((a, b) => (a < b ? a : b));
  const max = edges.reduce((a, b) => (a > b ? a : b));
  if (page.minId) {
    // The page spans from just above the cursor to the highest group start taken.
    return { keys: rows.map((r) => r.gk), lower: (BigInt(page.minId) + 1n).toString(), upper: max.toString() };
  }
  // The page spans from the lowest group head taken up to the newest notification on it.
  return { keys: rows.map((r) => r.gk), lower: min.toString(), upper: max.toString() };
}

export interface GroupRow {
  group_key: string;
  type: NotificationType;
  status_id: string | null;
  notifications_count: number;
  most_recent_notification_id: string;
  /** Newest first, with repeats; the caller keeps the first few distinct. */
  account_ids: string[];
  page_min_id: string | null;
  page_max_id: string | null;
  latest_page_notification_at: Date | null;
}

/** Whole-group facts for `keys`, plus each group's part inside [lower, upper] when a range is given. */
export async function loadGroups(sql: Db, accountId: string, f: ListFilter, groupedTypes: string[], keys: string[], range?: { lower: string; upper: string }): Promise<GroupRow[]> {
  if (keys.length === 0) return [];
  const inPage = range ? sql`x.id between ${range.lower} and ${range.upper}` : sql`false`;
  // Narrow by index first (notifications_group, or the id for a stand-alone one), then match exactly.
  const singles = keys.flatMap((k) => /^ungrouped-(\d{1,19})$/.exec(k)?.[1] ?? []).filter((id) => BigInt(id) <= 9223372036854775807n);
  return sql<GroupRow[]>`
    select x.gk as group_key,
      (array_agg(x.type order by x.id desc))[1] as type,
      (array_agg(x.status_id order by x.id desc))[1] as status_id,
      count(*)::int as notifications_count,
      max(x.id) as most_recent_notification_id,
      (array_agg(x.from_account_id::text order by x.id desc))[1:200] as account_ids,
      min(x.id) filter (where ${inPage}) as page_min_id,
      max(x.id) filter (where ${inPage}) as page_max_id,
      max(x.created_at) filter (where ${inPage}) as latest_page_notification_at
    from (select n.*, ${groupExpr(sql, groupedTypes)} as gk from notifications n
          where ${filterSql(sql, accountId, f)} and (n.group_key = any(${keys}::text[]) or n.id = any(${singles}::bigint[]))) x
    where x.gk = any(${keys}::text[])
    group by x.gk`;
}

export async function deleteGroup(sql: Db, accountId: string, groupKey: string): Promise<void> {
  const single = /^ungrouped-(\d{1,19})$/.exec(groupKey);
  if (single) await sql`delete from notifications where account_id = ${accountId} and id = ${single[1]!}`;
  else await sql`delete from notifications where account_id = ${accountId} and group_key = ${groupKey}`;
}

export async function countGroupsAfter(sql: Db, accountId: string, afterId: string, f: ListFilter, groupedTypes: string[], cap: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select distinct ${groupExpr(sql, groupedTypes)} from notifications n
      where ${filterSql(sql, accountId, f)} and n.id > ${afterId} limit ${cap}) x`;
  return row?.n ?? 0;
}

// ---- policy ----

export async function readPolicy(sql: Db, accountId: string): Promise<Record<string, unknown> | null> {
  const [row] = await sql<{ policy: Record<string, unknown> | null }[]>`
    select settings -> 'notification_policy' as policy from users where account_id = ${accountId}`;
  return row?.policy ?? null;
}

export async function writePolicy(sql: Db, accountId: string, policy: Record<string, string>): Promise<void> {
  await sql`
    update users set settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('notification_policy', ${sql.json(policy)}::jsonb)
    where account_id = ${accountId}`;
}

export async function filteredSummary(sql: Db, accountId: string): Promise<{ notifications: number; requests: number }> {
  const [row] = await sql<{ notifications: number; requests: number }[]>`
    select count(*)::int as notifications, least(count(distinct from_account_id), 100)::int as requests
    from notifications where account_id = ${accountId} and filtered`;
  return row ?? { notifications: 0, requests: 0 };
}

// ---- notification requests: filtered notifications, one request per sender ----

export interface RequestRow {
  /** The newest filtered notification from the sender: the request's id and page cursor. */
  id: string;
  from_account_id: string;
  notifications_count: number;
  created_at: Date;
  updated_at: Date;
  last_status_id: string | null;
}

const REQUEST_SELECT = (sql: Db) => sql`
  select max(n.id) as id, n.from_account_id, count(*)::int as notifications_count,
         min(n.created_at) as created_at, max(n.created_at) as updated_at,
         (array_agg(n.status_id order by n.id desc) filter (where n.status_id is not null))[1] as last_status_id
  from notifications n`;

export async function listRequests(sql: Db, accountId: string, page: { where: any; order: any; limit: number }): Promise<RequestRow[]> {
  return sql<RequestRow[]>`
    ${REQUEST_SELECT(sql)} where n.account_id = ${accountId} and n.filtered
    group by n.from_account_id having ${page.where} order by ${page.order} limit ${page.limit}`;
}

/** The sender behind a request id (any filtered notification of theirs names their request). */
export async function requestSender(sql: Db, accountId: string, requestId: string): Promise<string | undefined> {
  const [row] = await sql<{ from_account_id: string }[]>`
    select from_account_id from notifications where account_id = ${accountId} and id = ${requestId} and filtered`;
  return row?.from_account_id;
}

export async function findRequest(sql: Db, accountId: string, senderId: string): Promise<RequestRow | undefined> {
  const [row] = await sql<RequestRow[]>`
    ${REQUEST_SELECT(sql)} where n.account_id = ${accountId} and n.filtered and n.from_account_id = ${senderId}
    group by n.from_account_id`;
  return row;
}

/** Let the sender through from now on and release what was held back. */
export async function acceptSender(sql: Db, accountId: string, senderId: string): Promise<void> {
  await sql`insert into notification_permissions (account_id, from_account_id) values (${accountId}, ${senderId}) on conflict do nothing`;
  await sql`update notifications set filtered = false where account_id = ${accountId} and from_account_id = ${senderId} and filtered`;
}

export async function dismissSender(sql: Db, accountId: string, senderId: string): Promise<void> {
  await sql`delete from notifications where account_id = ${accountId} and from_account_id = ${senderId} and filtered`;
}
