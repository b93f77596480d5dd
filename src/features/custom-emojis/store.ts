/**
 * SQL over custom_emojis (migrations/0022_custom_emojis.sql, 0023_remote_emojis_moved.sql). Local emojis have a
 * null domain and an image in our storage (image_key); remote ones the author's domain and a remote image_url.
 */
import type { Db } from "../../infra/db";

export interface CustomEmojiRow {
  id: string;
  shortcode: string;
  domain: string | null;
  /** Local emojis only. */
  image_key: string | null;
  /** Remote emojis only: where the image is on its server (kept as a reference, not downloaded). */
  image_url: string | null;
  uri: string | null;
  content_type: string | null;
  image_size: number | null;
  category: string | null;
  visible_in_picker: boolean;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

/**
 * An emoji as SQL's custom_emojis_in() describes it (accounts.profile_emojis, emojisInTexts): what a
 * renderer needs, without another query. Dates arrive as ISO strings (JSON).
 */
export interface UsedEmoji {
  id: string;
  shortcode: string;
  image_key: string | null;
  image_url: string | null;
  content_type: string | null;
  category: string | null;
  visible_in_picker: boolean;
  updated_at: string;
}

export type NewCustomEmoji = { shortcode: string; image_key: string; content_type: string; image_size: number; category: string | null };

/** What /api/v1/custom_emojis lists: local and enabled, by category then shortcode (Mastodon's order). */
export async function listEnabledLocal(db: Db): Promise<CustomEmojiRow[]> {
  return db<CustomEmojiRow[]>`
    select * from custom_emojis where domain is null and not disabled
    order by category nulls first, lower(shortcode)`;
}

export async function listLocal(db: Db): Promise<CustomEmojiRow[]> {
  return db<CustomEmojiRow[]>`select * from custom_emojis where domain is null order by lower(shortcode)`;
}

export interface ListFilter {
  /** "local", "remote", or one domain. */
  scope: "local" | "remote" | { domain: string };
  /** Case-insensitive part of the shortcode. */
  query?: string;
  limit: number;
  offset: number;
}

/** The admin page's list: local or remote (optionally one domain), by domain then shortcode. */
export async function list(db: Db, filter: ListFilter): Promise<CustomEmojiRow[]> {
  const scope =
    filter.scope === "local" ? db`domain is null` : filter.scope === "remote" ? db`domain is not null` : db`lower(domain) = lower(${filter.scope.domain})`;
  const query = filter.query ? db`and strpos(lower(shortcode), lower(${filter.query})) > 0` : db``;
  return db<CustomEmojiRow[]>`
    select * from custom_emojis where ${scope} ${query}
    order by domain nulls first, lower(shortcode) limit ${filter.limit} offset ${filter.offset}`;
}

export async function findById(db: Db, id: string): Promise<CustomEmojiRow | undefined> {
  const [row] = await db<CustomEmojiRow[]>`select * from custom_emojis where id = ${id}`;
  return row;
}

export async function findLocal(db: Db, shortcode: string): Promise<CustomEmojiRow | undefined> {
  const [row] = await db<CustomEmojiRow[]>`select * from custom_emojis where domain is null and lower(shortcode) = lower(${shortcode})`;
  return row;
}

/** Insert, or replace the image and category of an existing local emoji; returns the row and the replaced key. */
export async function upsertLocal(db: Db, emoji: NewCustomEmoji): Promise<{ row: CustomEmojiRow; replacedKey: string | null }> {
  const [previous] = await db<{ image_key: string }[]>`
    select image_key from custom_emojis where domain is null and lower(shortcode) = lower(${emoji.shortcode}) for update`;
  const [row] = previous
    ? await db<CustomEmojiRow[]>`
        update custom_emojis set image_key = ${emoji.image_key}, content_type = ${emoji.content_type}, image_size = ${emoji.image_size},
          category = ${emoji.category}, updated_at = now()
        where domain is null and lower(shortcode) = lower(${emoji.shortcode}) returning *`
    : await db<CustomEmojiRow[]>`
        insert into custom_emojis ${db(emoji, "shortcode", "image_key", "content_type", "image_size", "category")} returning *`;
  return { row: row!, replacedKey: previous?.image_key ?? null };
}

/** Delete local emojis (all, or one shortcode); returns the image keys to remove from storage. */
export async function deleteLocal(db: Db, shortcode?: string): Promise<string[]> {
  const rows = shortcode
    ? await db<{ image_key: string }[]>`delete from custom_emojis where domain is null and lower(shortcode) = lower(${shortcode}) returning image_key`
    : await db<{ image_key: string }[]>`delete from custom_emojis where domain is null returning image_key`;
  return rows.map((r) => r.image_key);
}

/** Delete one emoji by id; returns it (its image key, for local ones) or undefined. */
export async function deleteById(db: Db, id: string): Promise<CustomEmojiRow | undefined> {
  const [row] = await db<CustomEmojiRow[]>`delete from custom_emojis where id = ${id} returning *`;
  return row;
}

/** Delete every remote emoji (tootctl emoji purge --remote-only); returns how many. */
export async function deleteRemote(db: Db): Promise<number> {
  const rows = await db`delete from custom_emojis where domain is not null returning id`;
  return rows.length;
}

export async function updateFlags(
  db: Db,
  id: string,
  changes: { disabled?: boolean; visible_in_picker?: boolean; category?: string | null },
): Promise<CustomEmojiRow | undefined> {
  const keys = (["disabled", "visible_in_picker", "category"] as const).filter((k) => changes[k] !== undefined);
  if (keys.length === 0) return findById(db, id);
  const [row] = await db<CustomEmojiRow[]>`update custom_emojis set ${db(changes, ...keys)}, updated_at = now() where id = ${id} returning *`;
  return row;
}

export interface RemoteEmojiInput {
  shortcode: string;
  imageUrl: string;
  uri: string | null;
}

/**
 * Insert or refresh a domain's emojis. An existing one changes only when its image URL changed (the image is a
 * reference, so a newer `updated` with the same URL changes nothing here); returns the shortcodes whose image
 * changed.
 */
export async function upsertRemote(db: Db, domain: string, emojis: RemoteEmojiInput[]): Promise<string[]> {
  if (emojis.length === 0) return [];
  const rows = await db<{ shortcode: string; inserted: boolean }[]>`
    insert into custom_emojis (shortcode, domain, image_url, uri)
    select x.shortcode, ${domain}, x.image_url, x.uri
    from unnest(${emojis.map((e) => e.shortcode)}::text[], ${emojis.map((e) => e.imageUrl)}::text[], ${emojis.map((e) => e.uri)}::text[])
      as x(shortcode, image_url, uri)
    on conflict (lower(shortcode), coalesce(domain, '')) do update
      set image_url = excluded.image_url, uri = excluded.uri, updated_at = now()
      where custom_emojis.image_url is distinct from excluded.image_url
    returning shortcode, (xmax = 0) as inserted`;
  // A changed URL matters to profiles that show it (their stored copy); new ones are picked up by the
  // account's own upsert that follows.
  return rows.filter((r) => !r.inserted).map((r) => r.shortcode);
}

/**
 * Recompute accounts.profile_emojis for the profiles of `domain` (null: local) that use one of `shortcodes`:
 * touching display_name fires the trigger of migration 0023. Returns how many accounts changed.
 */
export async function refreshProfiles(db: Db, domain: string | null, shortcodes: string[]): Promise<number> {
  if (shortcodes.length === 0) return 0;
  const pattern = `:(${shortcodes.map((s) => s.replace(/[^a-zA-Z0-9_]/g, "")).join("|")}):`;
  const scope = domain === null ? db`domain is null` : db`lower(domain) = lower(${domain})`;
  const rows = await db`
    update accounts set display_name = display_name
    where ${scope} and (display_name || ' ' || note || ' ' || fields::text) ~* ${pattern}
    returning id`;
  return rows.length;
}

/** Recompute every local (or every remote) profile that shows emojis: after a purge. */
export async function refreshAllProfiles(db: Db, scope: "local" | "remote"): Promise<void> {
  const where = scope === "local" ? db`domain is null` : db`domain is not null`;
  await db`update accounts set display_name = display_name where ${where} and profile_emojis <> '[]'::jsonb`;
}

/**
 * The emojis used by some texts, each written by an account (its domain says whose emojis count): one query
 * for any number of texts. Returns key → emojis, only for keys that use any.
 */
export async function emojisInTexts(db: Db, items: { key: string; accountId: string; body: string }[]): Promise<Map<string, UsedEmoji[]>> {
  if (items.length === 0) return new Map();
  const rows = await db<{ key: string; emojis: UsedEmoji[] }[]>`
    select x.key, custom_emojis_in(x.body, a.domain) as emojis
    from unnest(${items.map((i) => i.key)}::text[], ${items.map((i) => i.accountId)}::bigint[], ${items.map((i) => i.body)}::text[])
      as x(key, account_id, body)
    join accounts a on a.id = x.account_id`;
  return new Map(rows.filter((r) => r.emojis.length > 0).map((r) => [r.key, r.emojis]));
}
