/**
 * The instance's custom emojis: import (validated image → media storage → row), list, remove. Imports come
 * from the operator (`woolly admin emoji import`), but files are still checked like uploads: Mastodon's
 * shortcode rule, its 256 KiB limit for local emojis, and PNG / GIF / WebP recognised by their bytes, not
 * by the file name.
 */
import { randomBytes } from "node:crypto";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { IMMUTABLE_CACHE_CONTROL, storageFor } from "../../infra/storage";
import * as store from "./store";

export type { CustomEmojiRow } from "./store";

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
    result = await context.sql.begin((tx) =>
      store.upsertLocal(tx, { shortcode: input.shortcode, image_key: key, content_type: kind.type, image_size: input.bytes.length, category }),
    );
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
  const keys = await store.deleteLocal(context.sql, shortcode);
  if (keys.length > 0) await storageFor(context.config).delete(keys);
  return keys.length;
}

/** Mastodon's CustomEmoji entity. There is no separate still image yet, so static_url is the image itself. */
export function renderCustomEmoji(config: AppContext["config"], row: store.CustomEmojiRow) {
  const url = storageFor(config).url(row.image_key);
  return { shortcode: row.shortcode, url, static_url: url, visible_in_picker: row.visible_in_picker, category: row.category };
}
