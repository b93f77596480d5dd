/** SQL for accounts and users. Only the accounts feature touches these tables. */
import { forgetSignIns } from "../auth/sign-in-cache";
import type { Db, Sql } from "../../infra/db";
import type { RoleName } from "./rules";


export interface AccountRow {
  id: string;
  username: string;
  domain: string | null;
  display_name: string;
  note: string;
  fields: { name: string; value: string; verified_at?: string | null }[];
  locked: boolean;
  bot: boolean;
  discoverable: boolean | null;
  indexable: boolean;
  hide_collections: boolean;
  avatar_key: string | null;
  header_key: string | null;
  uri: string;
  url: string | null;
  public_key: string;
  followers_count: number;
  following_count: number;
  statuses_count: number;
  last_status_at: Date | null;
  suspended_at: Date | null;
  silenced_at: Date | null;
  memorial: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface UserRow {
  id: string;
  account_id: string;
  email: string;
  password_hash: string;
  role: RoleName;
  locale: string;
  confirmed_at: Date | null;
  approved: boolean;
  disabled: boolean;
  sign_up_reason: string | null;
  settings: Record<string, unknown>;
  last_sign_in_at: Date | null;
  created_at: Date;
}

export interface LocalAccountRow extends AccountRow {
  user: UserRow;
}

export async function usernameTaken(sql: Db, username: string): Promise<boolean> {
  const [row] = await sql`select 1 from accounts where lower(username) = lower(${username}) and domain is null`;
  return row !== undefined;
}

export async function emailTaken(sql: Db, email: string): Promise<boolean> {
  const [row] = await sql`select 1 from users where lower(email) = lower(${email})`;
  return row !== undefined;
}

export async function insertAccount(
  sql: Db,
  values: { username: string; uri: string; url: string; publicKey: string; privateKey: string; displayName?: string },
): Promise<AccountRow> {
  const [row] = await sql<AccountRow[]>`
    insert into accounts (username, domain, uri, url, public_key, private_key, display_name, inbox_url, shared_inbox_url)
    values (${values.username}, null, ${values.uri}, ${values.url}, ${values.publicKey}, ${values.privateKey}, ${values.displayName ?? ""},
            ${values.uri + "/inbox"}, ${values.uri.replace(/\/users\/[^/]+$/, "/inbox")})
    returning *`;
  return row!;
}

export async function insertUser(
  sql: Db,
  values: {
    accountId: string;
    email: string;
    passwordHash: string;
    role: RoleName;
    locale: string;
    confirmedAt: Date | null;
    confirmationTokenHash: string | null;
    approved: boolean;
    reason: string | null;
    signUpIp: string | null;
  },
): Promise<UserRow> {
  const [row] = await sql<UserRow[]>`
    insert into users (account_id, email, password_hash, role, locale, confirmed_at, confirmation_token, confirmation_sent_at,
                       approved, sign_up_reason, sign_up_ip)
    values (${values.accountId}, ${values.email}, ${values.passwordHash}, ${values.role}, ${values.locale}, ${values.confirmedAt},
            ${values.confirmationTokenHash}, ${values.confirmationTokenHash ? new Date() : null}, ${values.approved}, ${values.reason},
            ${values.signUpIp})
    returning *`;
  return row!;
}

const USER_COLUMNS = [
  "id", "account_id", "email", "password_hash", "role", "locale", "confirmed_at", "approved", "disabled",
  "sign_up_reason", "settings", "last_sign_in_at", "created_at",
] as const;

// Accounts joined with their users; user columns come back prefixed (user__email…) and are regrouped by toLocal.
const LOCAL_SELECT = (sql: Db) => sql`
  select a.*, ${sql.unsafe(USER_COLUMNS.map((c) => `u.${c} as user__${c}`).join(", "))}
  from accounts a join users u on u.account_id = a.id`;

function toLocal(row: Record<string, any>): LocalAccountRow {
  const account: Record<string, unknown> = {};
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key.startsWith("user__")) user[key.slice(6)] = value;
    else if (key !== "private_key") account[key] = value;
  }
  return { ...(account as unknown as AccountRow), user: user as unknown as UserRow };
}

export async function findLocalByUsername(sql: Db, username: string): Promise<LocalAccountRow | undefined> {
  const [row] = await sql`${LOCAL_SELECT(sql)} where lower(a.username) = lower(${username}) and a.domain is null`;
  return row ? toLocal(row) : undefined;
}

/** Several local accounts by username, case-insensitively (mentions in a post). */
export async function findLocalByUsernames(sql: Db, usernames: string[]): Promise<LocalAccountRow[]> {
  if (usernames.length === 0) return [];
  const lower = usernames.map((u) => u.toLowerCase());
  const rows = await sql`${LOCAL_SELECT(sql)} where lower(a.username) = any(${lower}::text[]) and a.domain is null`;
  return rows.map(toLocal);
}

export async function findLocalByEmail(sql: Db, email: string): Promise<LocalAccountRow | undefined> {
  const [row] = await sql`${LOCAL_SELECT(sql)} where lower(u.email) = lower(${email})`;
  return row ? toLocal(row) : undefined;
}

export async function findLocalByUserId(sql: Db, userId: string): Promise<LocalAccountRow | undefined> {
  const [row] = await sql`${LOCAL_SELECT(sql)} where u.id = ${userId}`;
  return row ? toLocal(row) : undefined;
}

export async function listLocal(sql: Db): Promise<LocalAccountRow[]> {
  const rows = await sql`${LOCAL_SELECT(sql)} order by a.id`;
  return rows.map(toLocal);
}

export async function updateUser(
  sql: Db,
  userId: string,
  changes: Partial<{ role: RoleName; approved: boolean; disabled: boolean; confirmed_at: Date | null; password_hash: string; email: string }>,
): Promise<void> {
  const columns = Object.keys(changes) as (keyof typeof changes)[];
  if (columns.length === 0) return;
  await sql`update users set ${sql(changes as Record<string, unknown>, ...columns)}, updated_at = now() where id = ${userId}`;
  forgetSignIns(); // role, approval, disabling… decide what its tokens may do
}

export async function deleteAccount(sql: Db, accountId: string): Promise<void> {
  await sql`delete from accounts where id = ${accountId}`;
  forgetSignIns();
}

// ---- Reading accounts for the API, local or (later) remote, with the user when there is one ----

export interface AccountWithUser extends AccountRow {
  /** Present for local accounts only. */
  user?: UserRow;
}

const ACCOUNT_WITH_USER_SELECT = (sql: Db) => sql`
  select a.*, ${sql.unsafe(USER_COLUMNS.map((c) => `u.${c} as user__${c}`).join(", "))}
  from accounts a left join users u on u.account_id = a.id`;

function toAccountWithUser(row: Record<string, any>): AccountWithUser {
  if (row.user__id === null || row.user__id === undefined) {
    const { private_key: _secret, ...rest } = Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith("user__")));
    return rest as unknown as AccountWithUser;
  }
  return toLocal(row);
}

/** Ids must already be valid bigints (see service.isAccountId). Unknown ids are skipped. */
export async function findAccountsByIds(sql: Db, ids: string[]): Promise<AccountWithUser[]> {
  if (ids.length === 0) return [];
  const rows = await sql`${ACCOUNT_WITH_USER_SELECT(sql)} where a.id = any(${sql.array(ids)}::bigint[])`;
  return rows.map(toAccountWithUser);
}

/** The lowest-id Owner: the instance's contact when no contact username is set. */
export async function findFirstLocalWithRole(sql: Db, role: RoleName): Promise<LocalAccountRow | undefined> {
  const [row] = await sql`${LOCAL_SELECT(sql)} where u.role = ${role} order by u.id limit 1`;
  return row ? toLocal(row) : undefined;
}

// ---- Profile changes (update_credentials) ----

export interface ProfileColumns {
  display_name?: string;
  note?: string;
  locked?: boolean;
  bot?: boolean;
  discoverable?: boolean;
  indexable?: boolean;
  hide_collections?: boolean;
  fields?: AccountRow["fields"];
}

/**
 * Profile columns on accounts and preference keys merged into users.settings, in one transaction, so a
 * failure leaves neither half written.
 */
export async function updateProfile(
  sql: Sql,
  ids: { accountId: string; userId: string },
  columns: ProfileColumns,
  settings: Record<string, unknown>,
): Promise<void> {
  const names = Object.keys(columns) as (keyof ProfileColumns)[];
  const values: Record<string, unknown> = { ...columns };
  if (columns.fields) values.fields = sql.json(columns.fields as never);
  await sql.begin(async (tx) => {
    if (names.length) await tx`update accounts set ${tx(values, ...names)}, updated_at = now() where id = ${ids.accountId}`;
    if (Object.keys(settings).length) {
      await tx`update users set settings = settings || ${tx.json(settings as never)}, updated_at = now() where id = ${ids.userId}`;
    }
  });
}

// ---- Instance statistics (the instance endpoints ask the accounts feature, which owns these tables) ----

export interface UserCounts {
  /** Confirmed local users whose account is not suspended (Mastodon's user_count). */
  confirmed: number;
  /** Local users who signed in during the last 30 days. */
  signedInLastMonth: number;
}

export async function countLocalUsers(sql: Db): Promise<UserCounts> {
  const [row] = await sql<{ confirmed: number; signed_in: number }[]>`
    select count(*) filter (where u.confirmed_at is not null and a.suspended_at is null)::int as confirmed,
           count(*) filter (where u.last_sign_in_at > now() - interval '30 days')::int as signed_in
    from users u join accounts a on a.id = u.account_id`;
  return { confirmed: row?.confirmed ?? 0, signedInLastMonth: row?.signed_in ?? 0 };
}

/** Every remote domain we know an account on, sorted. */
export async function knownDomains(sql: Db): Promise<string[]> {
  const rows = await sql<{ domain: string }[]>`select distinct lower(domain) as domain from accounts where domain is not null order by 1`;
  return rows.map((r) => r.domain);
}

export interface WeekActivity {
  /** Monday 00:00 UTC of the week, unix seconds. */
  week: number;
  logins: number;
  registrations: number;
}

/** The last `weeks` calendar weeks (Monday-based, UTC), newest first: sign-ins and new local users. */
export async function weeklyActivity(sql: Db, weeks: number): Promise<WeekActivity[]> {
  return sql<WeekActivity[]>`
    with w as (
      select generate_series(date_trunc('week', now() at time zone 'UTC') - make_interval(weeks => ${weeks - 1}),
                             date_trunc('week', now() at time zone 'UTC'), interval '1 week') as start
    )
    select extract(epoch from w.start)::float8 as week,
           (select count(*) from users u where u.last_sign_in_at >= w.start at time zone 'UTC'
              and u.last_sign_in_at < (w.start + interval '1 week') at time zone 'UTC')::int as logins,
           (select count(*) from users u where u.created_at >= w.start at time zone 'UTC'
              and u.created_at < (w.start + interval '1 week') at time zone 'UTC')::int as registrations
    from w order by w.start desc`;
}

// ── Email confirmation, password reset, sign-in bookkeeping ────────────────────────────────────────────
// Token columns hold sha256 hashes; each lookup matches the hash and its age in one statement, so a token is
// used at most once even when two requests race.

/** Confirm the user whose live confirmation token hashes to `tokenHash`; clears the token. */
export async function confirmByTokenHash(sql: Db, tokenHash: string, withinSeconds: number): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    update users set confirmed_at = coalesce(confirmed_at, now()), confirmation_token = null, updated_at = now()
    where confirmation_token = ${tokenHash} and confirmation_sent_at > now() - make_interval(secs => ${withinSeconds})
    returning id`;
  return row?.id;
}

export async function setConfirmationToken(sql: Db, userId: string, tokenHash: string): Promise<void> {
  await sql`update users set confirmation_token = ${tokenHash}, confirmation_sent_at = now(), updated_at = now() where id = ${userId}`;
}

export async function setResetPasswordToken(sql: Db, userId: string, tokenHash: string): Promise<void> {
  await sql`update users set reset_password_token = ${tokenHash}, reset_password_sent_at = now(), updated_at = now() where id = ${userId}`;
}

export async function findUserIdByResetTokenHash(sql: Db, tokenHash: string, withinSeconds: number): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    select id from users
    where reset_password_token = ${tokenHash} and reset_password_sent_at > now() - make_interval(secs => ${withinSeconds})`;
  return row?.id;
}

/** Set a new password for the user holding a live reset token; clears the token. */
export async function resetPasswordByTokenHash(sql: Db, tokenHash: string, withinSeconds: number, passwordHash: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    update users set password_hash = ${passwordHash}, reset_password_token = null, reset_password_sent_at = null, updated_at = now()
    where reset_password_token = ${tokenHash} and reset_password_sent_at > now() - make_interval(secs => ${withinSeconds})
    returning id`;
  return row?.id;
}

export async function recordSignIn(sql: Db, userId: string, ip: string | null): Promise<void> {
  await sql`update users set last_sign_in_at = now(), last_sign_in_ip = ${ip} where id = ${userId}`;
}

/** The current avatar or header key, with the account row locked until the transaction ends. */
export async function lockImageKey(sql: Db, accountId: string, kind: "avatar" | "header"): Promise<string | null> {
  const [row] = await sql<{ key: string | null }[]>`
    select ${kind === "avatar" ? sql`avatar_key` : sql`header_key`} as key from accounts where id = ${accountId} for update`;
  return row?.key ?? null;
}

export async function setImageKey(sql: Db, accountId: string, kind: "avatar" | "header", key: string | null): Promise<void> {
  await sql`update accounts set ${kind === "avatar" ? sql`avatar_key` : sql`header_key`} = ${key}, updated_at = now() where id = ${accountId}`;
}
