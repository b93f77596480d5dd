/** SQL over custom_emojis (migrations/0022_custom_emojis.sql). Local emojis have a null domain. */
import type { Db } from "../../infra/db";

export interface CustomEmojiRow {
  id: string;
  shortcode: string;
  domain: string | null;
  image_key: string;
  content_type: string;
  image_size: number;
  category: string | null;
  visible_in_picker: boolean;
  disabled: boolean;
  created_at: Date;
}

export type NewCustomEmoji = Pick<CustomEmojiRow, "shortcode" | "image_key" | "content_type" | "image_size" | "category">;

/** What /api/v1/custom_emojis lists: local and enabled, by category then shortcode (Mastodon's order). */
export async function listEnabledLocal(db: Db): Promise<CustomEmojiRow[]> {
  return db<CustomEmojiRow[]>`
    select * from custom_emojis where domain is null and not disabled
    order by category nulls first, lower(shortcode)`;
}

export async function listLocal(db: Db): Promise<CustomEmojiRow[]> {
  return db<CustomEmojiRow[]>`select * from custom_emojis where domain is null order by lower(shortcode)`;
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
