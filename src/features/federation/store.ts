/**
 * SQL for federation: the instance actor's keys, remote accounts (rows of `accounts` with a domain — local
 * accounts stay the accounts feature's), instance domain blocks, and read-only counts for NodeInfo and the
 * actor collections. Tables owned by other features (statuses, follows) are only ever read here.
 */
import type { Db, Sql } from "../../infra/db";
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

/** The "moved to" mark of a remote account (migration 0023); null clears it. */
export async function setMovedTo(sql: Db, accountId: string, targetId: string | null): Promise<void> {
  await sql`update accounts set moved_to_account_id = ${targetId} where id = ${accountId} and domain is not null`;
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
  obfuscate: boolean;
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

export type DomainBlockFields = Pick<DomainBlockRow, "domain" | "severity" | "reject_media" | "reject_reports" | "private_comment" | "public_comment" | "obfuscate">;
const BLOCK_COLUMNS = ["domain", "severity", "reject_media", "reject_reports", "private_comment", "public_comment", "obfuscate"] as const;

/** Insert or replace every field of a block (CSV import, admin API); the id of an existing block is kept. */
export async function putDomainBlock(sql: Db, block: DomainBlockFields): Promise<DomainBlockRow> {
  const [row] = await sql<DomainBlockRow[]>`
    insert into domain_blocks ${sql(block, ...BLOCK_COLUMNS)}
    on conflict (domain) do update set severity = excluded.severity, reject_media = excluded.reject_media,
      reject_reports = excluded.reject_reports, private_comment = excluded.private_comment,
      public_comment = excluded.public_comment, obfuscate = excluded.obfuscate, updated_at = now()
    returning *`;
  return row!;
}

/** Many blocks at once (CSV import): multi-row upserts of 1,000, so 10,000 lines are ten statements, not 10,000. */
export async function putDomainBlocks(sql: Db, blocks: DomainBlockFields[]): Promise<void> {
  for (let i = 0; i < blocks.length; i += 1000) {
    await sql`
      insert into domain_blocks ${sql(blocks.slice(i, i + 1000), ...BLOCK_COLUMNS)}
      on conflict (domain) do update set severity = excluded.severity, reject_media = excluded.reject_media,
        reject_reports = excluded.reject_reports, private_comment = excluded.private_comment,
        public_comment = excluded.public_comment, obfuscate = excluded.obfuscate, updated_at = now()`;
  }
}

export async function findDomainBlockById(sql: Db, id: string): Promise<DomainBlockRow | undefined> {
  const [row] = await sql<DomainBlockRow[]>`select * from domain_blocks where id = ${id}`;
  return row;
}

export async function findDomainBlock(sql: Db, domain: string): Promise<DomainBlockRow | undefined> {
  const [row] = await sql<DomainBlockRow[]>`select * from domain_blocks where domain = ${domain}`;
  return row;
}

export async function deleteDomainBlockById(sql: Db, id: string): Promise<DomainBlockRow | undefined> {
  const [row] = await sql<DomainBlockRow[]>`delete from domain_blocks where id = ${id} returning *`;
  return row;
}

/** One page of blocks by id, newest first (admin API); `page` comes from api/pagination's pageWhere on x.id. */
export async function pageDomainBlocks(sql: Db, page: { where: unknown; order: unknown; limit: number }): Promise<DomainBlockRow[]> {
  return sql<DomainBlockRow[]>`select * from domain_blocks x where ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

// ---- domain allows (limited federation mode) ----

export interface DomainAllowRow {
  id: string;
  domain: string;
  created_at: Date;
}

export async function listDomainAllows(sql: Db): Promise<DomainAllowRow[]> {
  return sql<DomainAllowRow[]>`select * from domain_allows order by domain`;
}

export async function pageDomainAllows(sql: Db, page: { where: unknown; order: unknown; limit: number }): Promise<DomainAllowRow[]> {
  return sql<DomainAllowRow[]>`select * from domain_allows x where ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

export async function insertDomainAllow(sql: Db, domain: string): Promise<DomainAllowRow> {
  const [row] = await sql<DomainAllowRow[]>`
    insert into domain_allows (domain) values (${domain})
    on conflict (domain) do update set updated_at = now() returning *`;
  return row!;
}

export async function findDomainAllowById(sql: Db, id: string): Promise<DomainAllowRow | undefined> {
  const [row] = await sql<DomainAllowRow[]>`select * from domain_allows where id = ${id}`;
  return row;
}

export async function deleteDomainAllow(sql: Db, where: { id: string } | { domain: string }): Promise<boolean> {
  const rows = "id" in where
    ? await sql`delete from domain_allows where id = ${where.id} returning id`
    : await sql`delete from domain_allows where domain = ${where.domain} returning id`;
  return rows.length > 0;
}

export async function isDomainAllowed(sql: Db, candidates: string[]): Promise<boolean> {
  const rows = await sql`select 1 from domain_allows where domain in ${sql(candidates)} limit 1`;
  return rows.length > 0;
}

// ---- purging a suspended domain's cached content ----

/** Which of these domains have cached remote accounts (on the domain itself or a subdomain)? */
export async function domainsWithAccounts(sql: Db, domains: string[]): Promise<string[]> {
  if (domains.length === 0) return [];
  const rows = await sql<{ domain: string }[]>`
    select d.domain from unnest(${domains}::text[]) as d(domain)
    where exists (select 1 from accounts a where a.domain is not null
                  and (lower(a.domain) = d.domain or lower(a.domain) like '%.' || d.domain))`;
  return rows.map((r) => r.domain);
}

/**
 * Delete up to `limit` remote accounts of a domain (and its subdomains); statuses, media rows, follows and
 * the rest cascade. Returns the storage keys of the deleted media so their files can be removed too.
 */
export async function deleteRemoteAccountsBatch(sql: Sql, domain: string, limit: number): Promise<{ accounts: number; keys: string[] }> {
  return sql.begin(async (tx) => {
    const ids = (
      await tx<{ id: string }[]>`
        select id from accounts
        where domain is not null and (lower(domain) = ${domain} or lower(domain) like ${"%." + domain.replace(/[\\%_]/g, "\\$&")})
        order by id limit ${limit} for update skip locked`
    ).map((r) => r.id);
    if (ids.length === 0) return { accounts: 0, keys: [] };
    const media = await tx<{ file_key: string | null; small_key: string | null; upload_key: string | null }[]>`
      select file_key, small_key, upload_key from media_attachments where account_id in ${tx(ids)}`;
    await tx`delete from accounts where id in ${tx(ids)}`;
    const keys = media.flatMap((m) => [m.file_key, m.small_key, m.upload_key]).filter((k): k is string => !!k);
    return { accounts: ids.length, keys };
  }) as Promise<{ accounts: number; keys: string[] }>;
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
