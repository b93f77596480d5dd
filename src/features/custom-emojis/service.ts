/**
 * Custom emojis, ours and other servers'.
 *
 * - Local: import (validated image → media storage → row), list, change, remove. Imports come from the
 *   operator (`woolly admin emoji import`, the admin page), but files are still checked like uploads:
 *   Mastodon's shortcode rule, its 256 KiB limit for local emojis, and PNG / GIF / WebP recognised by their
 *   bytes, not by the file name.
 * - Remote: Emoji tags of incoming Notes and actors are stored per domain with their image URL kept as a
 *   reference (like remote media; never fetched here), bounded and with the URL scheme checked.
 * - Use: which emojis a status or profile shows is computed from its text and its author's domain, as
 *   Mastodon's CustomEmoji.from_text does (SQL custom_emojis_in(), migration 0023) rather than linked per
 *   status: a link table would need keeping in step with every local and remote edit, while the text and
 *   the domain already say it. Profiles keep the result on the account row (accounts.profile_emojis,
 *   maintained by a trigger) because Account entities are rendered without I/O from many doors; statuses
 *   get it in one query per page of cache misses (emojisOfStatuses).
 */
import { randomBytes } from "node:crypto";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { IMMUTABLE_CACHE_CONTROL, storageFor } from "../../infra/storage";
import * as store from "./store";

export type { CustomEmojiRow, UsedEmoji } from "./store";

/** Mastodon's CustomEmoji::LOCAL_LIMIT. */
export const MAX_EMOJI_BYTES = 256 * 1024;
/** Mastodon's SHORTCODE_RE_FRAGMENT, with an upper bound. */
export const SHORTCODE = /^[a-zA-Z0-9_]{2,64}$/;

const TYPES = [
  { type: "image/png", ext: "png", matches: (b: Uint8Array) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((byte, i) => b[i] === byte) },
  { type: "image/gif", ext: "gif", matches: (b: Uint8Array) => ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a" },
  { type: "image/webp", ext: "webp", matches: (b: Uint8Array) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP" },
];

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

export function sniffEmojiType(bytes: Uint8Array): { type: string; ext: string } | undefined {
  return TYPES.find((t) => t.matches(bytes));
}

export interface ImportInput {
  shortcode: string;
  bytes: Uint8Array;
  category?: string | null;
  /** Replace the image of an existing emoji with this shortcode (otherwise it is kept and this one skipped). */
  overwrite?: boolean;
}

export type ImportResult = { outcome: "created" | "replaced" | "skipped"; row?: store.CustomEmojiRow };

type Ctx = Pick<AppContext, "sql" | "config">;

export async function importEmoji(context: Ctx, input: ImportInput): Promise<ImportResult> {
  if (!SHORTCODE.test(input.shortcode)) throw ApiError.unprocessable(`Shortcode "${input.shortcode.slice(0, 80)}" must be 2 to 64 letters, digits or underscores`);
  if (input.bytes.length === 0) throw ApiError.unprocessable("The image is empty");
  if (input.bytes.length > MAX_EMOJI_BYTES) throw ApiError.unprocessable(`The image is larger than ${MAX_EMOJI_BYTES / 1024} KiB`);
  const kind = sniffEmojiType(input.bytes);
  if (!kind) throw ApiError.unprocessable("The image must be a PNG, GIF or WebP file");
  const category = input.category?.trim() ? input.category.trim().slice(0, 64) : null;
  if (!input.overwrite && (await store.findLocal(context.sql, input.shortcode))) return { outcome: "skipped" };

  const storage = storageFor(context.config);
  // A new key for every image: stored files are immutable and cached for a year.
  const key = `custom_emojis/${randomBytes(12).toString("hex")}/${input.shortcode}.${kind.ext}`;
  await storage.put(key, input.bytes, { contentType: kind.type, cacheControl: IMMUTABLE_CACHE_CONTROL });
  let result: { row: store.CustomEmojiRow; replacedKey: string | null };
  try {
    result = await context.sql.begin(async (tx) => {
      const upserted = await store.upsertLocal(tx, { shortcode: input.shortcode, image_key: key, content_type: kind.type, image_size: input.bytes.length, category });
      // Profiles that already wrote :shortcode: show it from now on.
      await store.refreshProfiles(tx, null, [input.shortcode]);
      return upserted;
    });
  } catch (error) {
    await storage.delete([key]).catch(() => {});
    throw error;
  }
  if (result.replacedKey) await storage.delete([result.replacedKey]);
  return { outcome: result.replacedKey ? "replaced" : "created", row: result.row };
}

export const listEnabledEmojis = (context: Pick<AppContext, "sql">) => store.listEnabledLocal(context.sql);
export const listLocalEmojis = (context: Pick<AppContext, "sql">) => store.listLocal(context.sql);

/** Remove one local emoji, or all of them, with their images; returns how many were removed. */
export async function removeEmojis(context: Ctx, shortcode?: string): Promise<number> {
  const keys = await context.sql.begin(async (tx) => {
    const removed = await store.deleteLocal(tx, shortcode);
    if (shortcode && removed.length > 0) await store.refreshProfiles(tx, null, [shortcode]);
    else if (removed.length > 0) await store.refreshAllProfiles(tx, "local");
    return removed;
  });
  if (keys.length > 0) await storageFor(context.config).delete(keys);
  return keys.length;
}

// ---- the admin page ----

export const listEmojis = (context: Pick<AppContext, "sql">, filter: store.ListFilter) => store.list(context.sql, filter);
export const findEmoji = (context: Pick<AppContext, "sql">, id: string) => (/^\d{1,19}$/.test(id) ? store.findById(context.sql, id) : Promise.resolve(undefined));

/**
 * Enable / disable, show in the picker, set the category. Profiles that use the emoji are recomputed when
 * its availability changes (a disabled emoji is shown nowhere, as in Mastodon).
 */
export async function changeEmoji(
  context: Pick<AppContext, "sql">,
  id: string,
  changes: { disabled?: boolean; visible_in_picker?: boolean; category?: string | null },
): Promise<store.CustomEmojiRow> {
  const category = changes.category === undefined ? undefined : changes.category?.trim() ? changes.category.trim().slice(0, 64) : null;
  const row = await context.sql.begin(async (tx) => {
    const updated = await store.updateFlags(tx, id, { ...changes, category });
    if (updated) await store.refreshProfiles(tx, updated.domain, [updated.shortcode]);
    return updated;
  });
  if (!row) throw ApiError.notFound();
  return row;
}

/** Delete one emoji, local (with its image) or remote. */
export async function deleteEmoji(context: Ctx, id: string): Promise<void> {
  const row = await context.sql.begin(async (tx) => {
    const deleted = await store.deleteById(tx, id);
    if (deleted) await store.refreshProfiles(tx, deleted.domain, [deleted.shortcode]);
    return deleted;
  });
  if (!row) throw ApiError.notFound();
  if (row.image_key) await storageFor(context.config).delete([row.image_key]);
}

/** Every remote emoji (tootctl emoji purge --remote-only); nothing to remove from storage. */
export async function purgeRemoteEmojis(context: Pick<AppContext, "sql">): Promise<number> {
  return context.sql.begin(async (tx) => {
    const removed = await store.deleteRemote(tx);
    if (removed > 0) await store.refreshAllProfiles(tx, "remote");
    return removed;
  });
}

// ---- remote emojis (Emoji tags) ----

/** Mastodon keeps every Emoji tag; a bound keeps one object from writing thousands of rows. */
export const MAX_EMOJIS_PER_OBJECT = 50;
const MAX_URL_LENGTH = 2048;

export interface ParsedEmoji {
  shortcode: string;
  /** http(s) only; http is dropped later unless private addresses are allowed (storeRemoteEmojis). */
  imageUrl: string;
  uri: string | null;
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length > MAX_URL_LENGTH) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** One `{"type":"Emoji","name":":blob:","icon":{"url":…}}` tag; undefined when it is not a usable one. */
export function parseEmojiTag(tag: unknown): ParsedEmoji | undefined {
  if (typeof tag !== "object" || tag === null) return undefined;
  const t = tag as Record<string, unknown>;
  if (t.type !== "Emoji" || typeof t.name !== "string") return undefined;
  const shortcode = t.name.replace(/^:|:$/g, "");
  if (!SHORTCODE.test(shortcode)) return undefined;
  // icon may be an Image, a list of them, or (rarely) a bare URL.
  const icon = Array.isArray(t.icon) ? t.icon[0] : t.icon;
  const raw = typeof icon === "string" ? icon : typeof icon === "object" && icon !== null ? (icon as Record<string, unknown>).url : undefined;
  const imageUrl = httpUrl(Array.isArray(raw) ? raw[0] : raw);
  if (!imageUrl) return undefined;
  return { shortcode, imageUrl, uri: httpUrl(t.id) ?? null };
}

/** The Emoji tags of an object's `tag` list: valid ones, one per shortcode, at most MAX_EMOJIS_PER_OBJECT. */
export function parseEmojiTags(tags: unknown[]): ParsedEmoji[] {
  const out: ParsedEmoji[] = [];
  for (const tag of tags) {
    const emoji = parseEmojiTag(tag);
    if (emoji && !out.some((e) => e.shortcode.toLowerCase() === emoji.shortcode.toLowerCase())) out.push(emoji);
    if (out.length >= MAX_EMOJIS_PER_OBJECT) break;
  }
  return out;
}

/**
 * Store the emojis an object of `domain` carries. The image URL must be https (http only towards allowed
 * private addresses: a LAN or test peer); it is never fetched here. Profiles of that domain showing an emoji
 * whose image changed are recomputed.
 */
export async function storeRemoteEmojis(context: Pick<AppContext, "sql" | "config">, domain: string, emojis: ParsedEmoji[]): Promise<void> {
  const allowHttp = context.config.allowedPrivateAddresses.length > 0;
  const usable = emojis.filter((e) => e.imageUrl.startsWith("https:") || (allowHttp && e.imageUrl.startsWith("http:")));
  if (usable.length === 0) return;
  await context.sql.begin(async (tx) => {
    const changed = await store.upsertRemote(tx, domain.toLowerCase(), usable);
    await store.refreshProfiles(tx, domain, changed);
  });
}

// ---- use: statuses and profiles ----

const HAS_SHORTCODE = /:[a-zA-Z0-9_]{2,64}:/;

/**
 * The emojis each status shows (content, content warning), local or its author's server's: one query for
 * all of them, and none when no text has a :shortcode:. Returns status id → emojis, for those that have any.
 */
export async function emojisOfStatuses(
  context: Pick<AppContext, "sql">,
  rows: { id: string; account_id: string; content: string; spoiler_text: string }[],
): Promise<Map<string, store.UsedEmoji[]>> {
  return emojisOfTexts(context, rows.map((r) => ({ key: r.id, accountId: r.account_id, body: `${r.spoiler_text} ${r.content}` })));
}

/**
 * The emojis some texts use, each resolved for its author (local emojis, or the author's server's): poll
 * options, an edit's earlier text. One query for all; none when no text has a :shortcode:. Key → emojis.
 */
export async function emojisOfTexts(context: Pick<AppContext, "sql">, items: { key: string; accountId: string; body: string }[]): Promise<Map<string, store.UsedEmoji[]>> {
  return store.emojisInTexts(
    context.sql,
    items.filter((i) => HAS_SHORTCODE.test(i.body)),
  );
}

/** The emojis of an account's profile, as the row keeps them (migration 0023); [] for rows without them. */
export function profileEmojisOf(account: object): store.UsedEmoji[] {
  const value = (account as { profile_emojis?: unknown }).profile_emojis;
  return Array.isArray(value) ? (value as store.UsedEmoji[]) : [];
}

type StorageConfig = Pick<AppContext["config"], "media" | "baseUrl">;

function imageUrlOf(config: StorageConfig, emoji: { image_key: string | null; image_url: string | null }): string {
  // Remote ones are shown from their server (like remote media without the proxy); local ones from storage.
  return emoji.image_key ? storageFor(config).url(emoji.image_key) : (emoji.image_url ?? "");
}

export interface CustomEmojiEntity {
  shortcode: string;
  url: string;
  static_url: string;
  visible_in_picker: boolean;
  category: string | null;
}

/** Mastodon's CustomEmoji entity. There is no separate still image yet, so static_url is the image itself. */
export function renderCustomEmoji(config: StorageConfig, row: Pick<store.CustomEmojiRow, "shortcode" | "image_key" | "image_url" | "visible_in_picker" | "category">): CustomEmojiEntity {
  const url = imageUrlOf(config, row);
  return { shortcode: row.shortcode, url, static_url: url, visible_in_picker: row.visible_in_picker, category: row.category };
}

/** The AS Emoji tag of a local emoji (Mastodon's ActivityPub::EmojiSerializer, without an id we do not serve). */
export function renderEmojiTag(config: StorageConfig, emoji: store.UsedEmoji): Record<string, unknown> {
  return {
    type: "Emoji",
    name: `:${emoji.shortcode}:`,
    updated: new Date(emoji.updated_at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    icon: { type: "Image", ...(emoji.content_type && { mediaType: emoji.content_type }), url: imageUrlOf(config, emoji) },
  };
}
