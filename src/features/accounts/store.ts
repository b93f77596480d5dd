/** SQL for accounts and users. Only the accounts feature touches these tables. */
import type { Db } from "../../infra/db";
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
}

export async function deleteAccount(sql: Db, accountId: string): Promise<void> {
  await sql`delete from accounts where id = ${accountId}`;
}
