/**
 * SQL for moderation: e-mail domain blocks, IP blocks, strikes (account_warnings), and the moderation
 * columns of accounts and users. Reading and flipping those columns is moderation's job, so it lives here
 * rather than behind the accounts service, which has no reason to offer "list every account whose sign-up
 * IP is in this range" or "suspend".
 */
import type { Db } from "../../infra/db";

// ---- e-mail domain blocks ----

export interface EmailDomainBlockRow {
  id: string;
  domain: string;
  created_at: Date;
}

export async function listEmailDomainBlocks(sql: Db, page: { where: unknown; order: unknown; limit: number }): Promise<EmailDomainBlockRow[]> {
  return sql<EmailDomainBlockRow[]>`select * from email_domain_blocks x where ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

export async function findEmailDomainBlock(sql: Db, id: string): Promise<EmailDomainBlockRow | undefined> {
  const [row] = await sql<EmailDomainBlockRow[]>`select * from email_domain_blocks where id = ${id}`;
  return row;
}

export async function insertEmailDomainBlock(sql: Db, domain: string): Promise<EmailDomainBlockRow | undefined> {
  const [row] = await sql<EmailDomainBlockRow[]>`
    insert into email_domain_blocks (domain) values (${domain}) on conflict (domain) do nothing returning *`;
  return row;
}

export async function deleteEmailDomainBlock(sql: Db, id: string): Promise<boolean> {
  return (await sql`delete from email_domain_blocks where id = ${id} returning id`).length > 0;
}

/** Is any of these domains (an address's domain and its parents) blocked? */
export async function emailDomainBlocked(sql: Db, candidates: string[]): Promise<boolean> {
  if (candidates.length === 0) return false;
  return (await sql`select 1 from email_domain_blocks where domain in ${sql(candidates)} limit 1`).length > 0;
}

/** Sign-ups per day with addresses at a domain (or its subdomains), for the entity's `history`. */
export async function emailDomainUses(sql: Db, domain: string, days: number): Promise<{ day: Date; accounts: number }[]> {
  return sql<{ day: Date; accounts: number }[]>`
    select date_trunc('day', created_at) as day, count(*)::int as accounts from users
    where created_at > now() - make_interval(days => ${days})
      and (lower(split_part(email, '@', 2)) = ${domain} or lower(split_part(email, '@', 2)) like ${"%." + domain})
    group by 1`;
}

// ---- IP blocks ----

export type IpBlockSeverity = "sign_up_requires_approval" | "sign_up_block" | "no_access";

export interface IpBlockRow {
  id: string;
  ip: string;
  severity: IpBlockSeverity;
  comment: string;
  expires_at: Date | null;
  created_at: Date;
}

export async function listIpBlocks(sql: Db, page: { where: unknown; order: unknown; limit: number }): Promise<IpBlockRow[]> {
  return sql<IpBlockRow[]>`
    select id, host(ip) || '/' || masklen(ip) as ip, severity, comment, expires_at, created_at from ip_blocks x
    where (expires_at is null or expires_at > now()) and ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

export async function findIpBlock(sql: Db, id: string): Promise<IpBlockRow | undefined> {
  const [row] = await sql<IpBlockRow[]>`
    select id, host(ip) || '/' || masklen(ip) as ip, severity, comment, expires_at, created_at from ip_blocks
    where id = ${id} and (expires_at is null or expires_at > now())`;
  return row;
}

export async function insertIpBlock(sql: Db, block: { ip: string; severity: IpBlockSeverity; comment: string; expires_at: Date | null }): Promise<IpBlockRow | undefined> {
  // An expired block for the same range is replaced rather than reported as a duplicate.
  await sql`delete from ip_blocks where ip = ${block.ip}::cidr and expires_at <= now()`;
  const [row] = await sql<IpBlockRow[]>`
    insert into ip_blocks (ip, severity, comment, expires_at) values (${block.ip}::cidr, ${block.severity}, ${block.comment}, ${block.expires_at})
    on conflict (ip) do nothing
    returning id, host(ip) || '/' || masklen(ip) as ip, severity, comment, expires_at, created_at`;
  return row;
}

export async function updateIpBlock(
  sql: Db,
  id: string,
  changes: Partial<{ ip: string; severity: IpBlockSeverity; comment: string; expires_at: Date | null }>,
): Promise<IpBlockRow | undefined> {
  const [row] = await sql<IpBlockRow[]>`
    update ip_blocks set
      ip = coalesce(${changes.ip ?? null}::cidr, ip),
      severity = coalesce(${changes.severity ?? null}, severity),
      comment = coalesce(${changes.comment ?? null}, comment),
      expires_at = ${changes.expires_at === undefined ? sql`expires_at` : changes.expires_at},
      updated_at = now()
    where id = ${id}
    returning id, host(ip) || '/' || masklen(ip) as ip, severity, comment, expires_at, created_at`;
  return row;
}

export async function deleteIpBlock(sql: Db, id: string): Promise<boolean> {
  return (await sql`delete from ip_blocks where id = ${id} returning id`).length > 0;
}

/** The strictest live block covering an address (no_access > sign_up_block > sign_up_requires_approval). */
export async function strictestIpBlock(sql: Db, ip: string): Promise<IpBlockSeverity | undefined> {
  const [row] = await sql<{ severity: IpBlockSeverity }[]>`
    select severity from ip_blocks
    where ip >>= ${ip}::inet and (expires_at is null or expires_at > now())
    order by case severity when 'no_access' then 0 when 'sign_up_block' then 1 else 2 end limit 1`;
  return row?.severity;
}

// ---- accounts, as moderators see them ----

export interface AccountFilter {
  local?: boolean;
  remote?: boolean;
  /** active | pending | disabled | silenced | suspended | sensitized */
  status?: "active" | "pending" | "disabled" | "silenced" | "suspended" | "sensitized";
  staff?: boolean;
  username?: string;
  displayName?: string;
  byDomain?: string;
  email?: string;
  ip?: string;
}

/** Ids of accounts matching the filter, newest first, one page (`page` from api/pagination's pageWhere). */
export async function filterAccountIds(sql: Db, filter: AccountFilter, page: { where: unknown; order: unknown; limit: number }): Promise<string[]> {
  const conditions = [sql`true`];
  if (filter.local) conditions.push(sql`x.domain is null`);
  if (filter.remote) conditions.push(sql`x.domain is not null`);
  if (filter.byDomain) conditions.push(sql`lower(x.domain) = ${filter.byDomain.toLowerCase()}`);
  if (filter.username) conditions.push(sql`lower(x.username) like ${likePrefix(filter.username)}`);
  if (filter.displayName) conditions.push(sql`x.display_name ilike ${"%" + likeEscape(filter.displayName) + "%"}`);
  if (filter.email) conditions.push(sql`lower(u.email) like ${"%" + likeEscape(filter.email.toLowerCase()) + "%"}`);
  if (filter.ip) conditions.push(sql`(u.sign_up_ip <<= ${filter.ip}::inet or u.last_sign_in_ip <<= ${filter.ip}::inet)`);
  if (filter.staff) conditions.push(sql`u.role in ('Moderator', 'Admin', 'Owner')`);
  switch (filter.status) {
    case "active":
      conditions.push(sql`x.suspended_at is null and (u.id is null or (u.approved and not u.disabled))`);
      break;
    case "pending":
      conditions.push(sql`u.id is not null and not u.approved`);
      break;
    case "disabled":
      conditions.push(sql`u.disabled`);
      break;
    case "silenced":
      conditions.push(sql`x.silenced_at is not null`);
      break;
    case "suspended":
      conditions.push(sql`x.suspended_at is not null`);
      break;
    case "sensitized":
      conditions.push(sql`x.sensitized_at is not null`);
      break;
  }
  const where = conditions.reduce((x, y) => sql`${x} and ${y}`);
  // The page condition is written against `x.id` (api/pagination), hence the alias.
  const rows = await sql<{ id: string }[]>`
    select x.id from accounts x left join users u on u.account_id = x.id
    where ${where} and ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
  return rows.map((r) => r.id);
}

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}
function likePrefix(text: string): string {
  return likeEscape(text.toLowerCase()) + "%";
}

export interface ModerationRow {
  account_id: string;
  sensitized_at: Date | null;
  sign_up_ip: string | null;
  last_sign_in_ip: string | null;
  last_sign_in_at: Date | null;
  user_created_at: Date | null;
}

/** What the accounts feature's rows lack for Admin::Account: sensitized_at and the addresses. */
export async function moderationDetails(sql: Db, ids: string[]): Promise<Map<string, ModerationRow>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<ModerationRow[]>`
    select a.id as account_id, a.sensitized_at, host(u.sign_up_ip) as sign_up_ip, host(u.last_sign_in_ip) as last_sign_in_ip,
           u.last_sign_in_at, u.created_at as user_created_at
    from accounts a left join users u on u.account_id = a.id where a.id in ${sql(ids)}`;
  return new Map(rows.map((r) => [r.account_id, r]));
}

export type AccountColumn = "suspended_at" | "silenced_at" | "sensitized_at";

/** Set (now) or clear one moderation timestamp; returns false when the account does not exist. */
export async function setAccountFlag(sql: Db, accountId: string, column: AccountColumn, on: boolean): Promise<boolean> {
  const value = on ? sql`coalesce(${sql(column)}, now())` : sql`null`;
  return (await sql`update accounts set ${sql(column)} = ${value}, updated_at = now() where id = ${accountId} returning id`).length > 0;
}

export async function setUserFlag(sql: Db, accountId: string, column: "disabled" | "approved", value: boolean): Promise<boolean> {
  return (await sql`update users set ${sql(column)} = ${value}, updated_at = now() where account_id = ${accountId} returning id`).length > 0;
}

/** A pending sign-up that was rejected goes away entirely, as Mastodon's reject. */
export async function deletePendingLocalAccount(sql: Db, accountId: string): Promise<boolean> {
  return (
    await sql`
      delete from accounts where id = ${accountId} and domain is null
        and exists (select 1 from users where account_id = ${accountId} and not approved) returning id`
  ).length > 0;
}

/** Storage keys of an account's media and profile images (to remove the files once the rows are gone). */
export async function accountStorageKeys(sql: Db, accountId: string): Promise<string[]> {
  const rows = await sql<{ key: string | null }[]>`
    select unnest(array[file_key, small_key, upload_key]) as key from media_attachments where account_id = ${accountId}
    union all select unnest(array[avatar_key, header_key]) from accounts where id = ${accountId}`;
  return rows.map((r) => r.key).filter((k): k is string => !!k);
}

/** Remove a suspended remote account and everything that cascades from it. */
export async function deleteSuspendedRemoteAccount(sql: Db, accountId: string): Promise<boolean> {
  return (await sql`delete from accounts where id = ${accountId} and domain is not null and suspended_at is not null returning id`).length > 0;
}

export async function insertWarning(
  sql: Db,
  warning: { accountId: string; byAccountId: string; action: string; text: string; reportId?: string | null; statusIds?: string[] },
): Promise<void> {
  await sql`
    insert into account_warnings (account_id, created_by_account_id, action, text, report_id, status_ids)
    values (${warning.accountId}, ${warning.byAccountId}, ${warning.action}, ${warning.text}, ${warning.reportId ?? null}, ${warning.statusIds ?? []}::bigint[])`;
}

export async function findWarningPreset(sql: Db, id: string): Promise<{ id: string; title: string; text: string } | undefined> {
  const [row] = await sql<{ id: string; title: string; text: string }[]>`select id, title, text from account_warning_presets where id = ${id}`;
  return row;
}

export interface StrikeRow {
  id: string;
  action: string;
  text: string;
  report_id: string | null;
  status_ids: string[];
  created_by_account_id: string | null;
  created_at: Date;
}

/** An account's strikes, newest first (shown to moderators on the account's page). */
export async function listWarnings(sql: Db, accountId: string, limit: number): Promise<StrikeRow[]> {
  return sql<StrikeRow[]>`
    select id, action, text, report_id, status_ids::text[] as status_ids, created_by_account_id, created_at
    from account_warnings where account_id = ${accountId} order by id desc limit ${limit}`;
}

// ---- moderation notes (accounts and reports) ----

export interface NoteRow {
  id: string;
  account_id: string | null;
  content: string;
  created_at: Date;
}

export type NoteSubject = { kind: "account"; id: string } | { kind: "report"; id: string };

export async function listNotes(sql: Db, subject: NoteSubject): Promise<NoteRow[]> {
  return subject.kind === "account"
    ? sql<NoteRow[]>`select id, account_id, content, created_at from account_moderation_notes where target_account_id = ${subject.id} order by id`
    : sql<NoteRow[]>`select id, account_id, content, created_at from report_notes where report_id = ${subject.id} order by id`;
}

export async function insertNote(sql: Db, subject: NoteSubject, authorId: string, content: string): Promise<NoteRow> {
  const [row] =
    subject.kind === "account"
      ? await sql<NoteRow[]>`
          insert into account_moderation_notes (account_id, target_account_id, content) values (${authorId}, ${subject.id}, ${content})
          returning id, account_id, content, created_at`
      : await sql<NoteRow[]>`
          insert into report_notes (account_id, report_id, content) values (${authorId}, ${subject.id}, ${content})
          returning id, account_id, content, created_at`;
  return row!;
}

/** Delete one note of that subject; returns its author (undefined when there was no such note). */
export async function deleteNote(sql: Db, subject: NoteSubject, noteId: string): Promise<{ account_id: string | null } | undefined> {
  const [row] =
    subject.kind === "account"
      ? await sql<{ account_id: string | null }[]>`delete from account_moderation_notes where id = ${noteId} and target_account_id = ${subject.id} returning account_id`
      : await sql<{ account_id: string | null }[]>`delete from report_notes where id = ${noteId} and report_id = ${subject.id} returning account_id`;
  return row;
}

/** The live posts a report names that belong to its target (only those may be removed through it). */
export async function reportedStatusesOf(sql: Db, reportId: string, targetAccountId: string): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    select s.id from reports r join statuses s on s.id = any(r.status_ids)
    where r.id = ${reportId} and s.account_id = ${targetAccountId} and s.deleted_at is null order by s.id`;
  return rows.map((r) => r.id);
}

/** Mark the target's open reports handled (Mastodon's resolve on action with report_id). */
export async function resolveReport(sql: Db, reportId: string, targetAccountId: string, byAccountId: string): Promise<boolean> {
  return (
    await sql`
      update reports set action_taken_at = now(), action_taken_by_account_id = ${byAccountId}, updated_at = now()
      where id = ${reportId} and target_account_id = ${targetAccountId} returning id`
  ).length > 0;
}

/** Every unresolved report about the target, resolved at once (an action other than a warning answers them all). */
export async function resolveOpenReports(sql: Db, targetAccountId: string, byAccountId: string): Promise<void> {
  await sql`
    update reports set action_taken_at = now(), action_taken_by_account_id = ${byAccountId}, updated_at = now()
    where target_account_id = ${targetAccountId} and action_taken_at is null`;
}

/** The posts a report names (kept on the strike it leads to, as Mastodon's AccountWarning#status_ids). */
export async function reportStatusIds(sql: Db, reportId: string): Promise<string[]> {
  const [row] = await sql<{ status_ids: string[] }[]>`select status_ids::text[] as status_ids from reports where id = ${reportId}`;
  return row?.status_ids ?? [];
}

// ---- measures ----

export type DailyCounts = { day: string; value: number }[];

/**
 * Counts per UTC day in [start, end] for one measure. Each key is one grouped scan over the range (not one
 * query per day), then days without rows are filled with zeros.
 */
export async function dailyCounts(
  sql: Db,
  key: "new_users" | "active_users" | "opened_reports" | "resolved_reports" | "interactions",
  start: Date,
  end: Date,
): Promise<DailyCounts> {
  const from = start;
  const until = new Date(end.getTime() + 86_400_000);
  const day = (column: string) => sql.unsafe(`date_trunc('day', ${column} at time zone 'UTC')`);
  const queries = {
    new_users: sql`select ${day("u.created_at")} as day, count(*)::int as n from users u where u.created_at >= ${from} and u.created_at < ${until} group by 1`,
    // Woolly keeps each user's last sign-in, not a daily activity log: a user counts on the day they last signed in.
    active_users: sql`select ${day("u.last_sign_in_at")} as day, count(*)::int as n from users u where u.last_sign_in_at >= ${from} and u.last_sign_in_at < ${until} group by 1`,
    opened_reports: sql`select ${day("r.created_at")} as day, count(*)::int as n from reports r where r.created_at >= ${from} and r.created_at < ${until} group by 1`,
    resolved_reports: sql`select ${day("r.action_taken_at")} as day, count(*)::int as n from reports r where r.action_taken_at >= ${from} and r.action_taken_at < ${until} group by 1`,
    // Favourites, boosts and replies that local posts received.
    interactions: sql`
      select day, sum(n)::int as n from (
        select ${day("f.created_at")} as day, count(*) as n from favourites f
          join statuses s on s.id = f.status_id join accounts a on a.id = s.account_id
          where a.domain is null and f.created_at >= ${from} and f.created_at < ${until} group by 1
        union all
        select ${day("r.created_at")} as day, count(*) as n from statuses r
          join statuses s on s.id = coalesce(r.reblog_of_id, r.in_reply_to_id) join accounts a on a.id = s.account_id
          where a.domain is null and r.created_at >= ${from} and r.created_at < ${until} group by 1
      ) t group by day`,
  };
  const rows = await sql<{ day: Date; n: number }[]>`${queries[key]}`;
  const byDay = new Map(rows.map((r) => [Date.UTC(r.day.getFullYear(), r.day.getMonth(), r.day.getDate()), r.n]));
  const out: DailyCounts = [];
  for (let t = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()); t <= end.getTime(); t += 86_400_000) {
    out.push({ day: new Date(t).toISOString(), value: byDay.get(t) ?? 0 });
  }
  return out;
}
