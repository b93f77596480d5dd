/**
 * SQL for federation: the instance actor's keys, remote accounts (rows of `accounts` with a domain — local
 * accounts stay the accounts feature's), instance domain blocks, and read-only counts for NodeInfo and the
 * actor collections. Tables owned by other features (statuses, follows) are only ever read here.
 */
import type { Db } from "../../infra/db";
import type { AccountRow } from "../accounts/store";

// ---- instance actor ----

export async function findInstanceKeys(sql: Db): Promise<{ public_key: string; private_key: string } | undefined> {
  const [row] = await sql<{ public_key: string; private_key: string }[]>`select public_key, private_key from instance_keys where id = 1`;
  return row;
}

/** First writer wins: two processes racing on first use both end up with the stored pair. */
export async function insertInstanceKeys(sql: Db, keys: { publicKey: string; privateKey: string }): Promise<void> {
  await sql`insert into instance_keys (id, public_key, private_key) values (1, ${keys.publicKey}, ${keys.privateKey}) on conflict (id) do nothing`;
}

// ---- remote accounts ----

/** An accounts row as federation sees it: with the inbox columns the accounts feature does not type. */
export interface RemoteAccountRow extends AccountRow {
  inbox_url: string | null;
  shared_inbox_url: string | null;
}

export interface RemoteAccountColumns {
  username: string;
  domain: string;
  uri: string;
  url: string | null;
  inbox_url: string | null;
  shared_inbox_url: string | null;
  public_key: string;
  display_name: string;
  note: string;
  fields: { name: string; value: string }[];
  locked: boolean;
  bot: boolean;
  discoverable: boolean | null;
  indexable: boolean;
  memorial: boolean;
}

export async function findRemoteByUri(sql: Db, uri: string): Promise<RemoteAccountRow | undefined> {
  const [row] = await sql<RemoteAccountRow[]>`select * from accounts where uri = ${uri} and domain is not null`;
  return row;
}

export async function findRemoteByHandle(sql: Db, username: string, domain: string): Promise<RemoteAccountRow | undefined> {
  const [row] = await sql<RemoteAccountRow[]>`
    select * from accounts where lower(username) = lower(${username}) and lower(domain) = lower(${domain})`;
  return row;
}

/**
 * Insert or refresh a remote account, keyed by its actor URI. A different actor that claims the same
 * username@domain replaces the handle's old holder only by URI — the unique (username, domain) index makes
 * a clash fail loudly instead of merging two people.
 */
export async function upsertRemoteAccount(sql: Db, columns: RemoteAccountColumns): Promise<RemoteAccountRow> {
  const values = { ...columns, fields: sql.json(columns.fields as never) };
  const [row] = await sql<RemoteAccountRow[]>`
    insert into accounts ${sql(values as never, ...(Object.keys(columns) as never[]))}
    on conflict (uri) where domain is not null do update set
      username = excluded.username, url = excluded.url, inbox_url = excluded.inbox_url,
      shared_inbox_url = excluded.shared_inbox_url, public_key = excluded.public_key,
      display_name = excluded.display_name, note = excluded.note, fields = excluded.fields,
      locked = excluded.locked, bot = excluded.bot, discoverable = excluded.discoverable,
      indexable = excluded.indexable, memorial = excluded.memorial, updated_at = now()
    returning *`;
  return row!;
}

export async function deleteRemoteByUri(sql: Db, uri: string): Promise<boolean> {
  const rows = await sql`delete from accounts where uri = ${uri} and domain is not null returning id`;
  return rows.length > 0;
}

// ---- domain blocks ----

export interface DomainBlockRow {
  id: string;
  domain: string;
  severity: "noop" | "silence" | "suspend";
  reject_media: boolean;
  reject_reports: boolean;
  private_comment: string | null;
  public_comment: string | null;
  created_at: Date;
}

export async function listDomainBlocks(sql: Db): Promise<DomainBlockRow[]> {
  return sql<DomainBlockRow[]>`select * from domain_blocks order by domain`;
}

export async function upsertDomainBlock(
  sql: Db,
  block: Pick<DomainBlockRow, "domain" | "severity" | "reject_media" | "reject_reports" | "private_comment">,
): Promise<DomainBlockRow> {
  const [row] = await sql<DomainBlockRow[]>`
    insert into domain_blocks ${sql(block, "domain", "severity", "reject_media", "reject_reports", "private_comment")}
    on conflict (domain) do update set severity = excluded.severity, reject_media = excluded.reject_media,
      reject_reports = excluded.reject_reports, private_comment = excluded.private_comment, updated_at = now()
    returning *`;
  return row!;
}

export async function deleteDomainBlock(sql: Db, domain: string): Promise<boolean> {
  return (await sql`delete from domain_blocks where domain = ${domain} returning id`).length > 0;
}

/** The most specific block covering a host: example.com covers example.com and *.example.com. */
export async function findDomainBlockCovering(sql: Db, host: string): Promise<DomainBlockRow | undefined> {
  const bare = host.toLowerCase().replace(/:\d+$/, "");
  const parts = bare.split(".");
  // An IP address covers only itself; a name covers its subdomains.
  const candidates = /^[0-9.]+$|:/.test(bare) ? [bare] : parts.map((_, i) => parts.slice(i).join(".")).filter(Boolean);
  if (host.toLowerCase() !== bare) candidates.unshift(host.toLowerCase());
  const [row] = await sql<DomainBlockRow[]>`
    select * from domain_blocks where domain in ${sql(candidates)} order by length(domain) desc limit 1`;
  return row;
}

// ---- read-only counts (NodeInfo, actor collections) ----

export interface UsageCounts {
  total: number;
  activeMonth: number;
  activeHalfyear: number;
  localPosts: number;
}

export async function usageCounts(sql: Db): Promise<UsageCounts> {
  const [users] = await sql<{ total: number; month: number; halfyear: number }[]>`
    select count(*) filter (where u.confirmed_at is not null)::int as total,
           count(*) filter (where u.confirmed_at is not null and u.last_sign_in_at > now() - interval '30 days')::int as month,
           count(*) filter (where u.confirmed_at is not null and u.last_sign_in_at > now() - interval '180 days')::int as halfyear
    from users u join accounts a on a.id = u.account_id where a.suspended_at is null`;
  const [posts] = await sql<{ count: number }[]>`
    select count(*)::int as count from statuses where local and deleted_at is null and reblog_of_id is null`;
  return { total: users?.total ?? 0, activeMonth: users?.month ?? 0, activeHalfyear: users?.halfyear ?? 0, localPosts: posts?.count ?? 0 };
}

/** Actor URIs of an account's followers (or of whom it follows), newest first, for a collection page. */
export async function followUris(sql: Db, accountId: string, direction: "followers" | "following", limit: number): Promise<string[]> {
  const rows =
    direction === "followers"
      ? await sql<{ uri: string }[]>`
          select a.uri from follows f join accounts a on a.id = f.account_id
          where f.target_account_id = ${accountId} order by f.id desc limit ${limit}`
      : await sql<{ uri: string }[]>`
          select a.uri from follows f join accounts a on a.id = f.target_account_id
          where f.account_id = ${accountId} order by f.id desc limit ${limit}`;
  return rows.map((r) => r.uri);
}
