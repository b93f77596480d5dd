/**
 * SQL for cached preview card images: columns of preview_cards added by migration 0021 (the cards feature
 * owns the rest of the row). Only card-images.ts and the cache budget (cache.ts) call this.
 */
import type { Db } from "../../infra/db";

export interface CardImageRow {
  id: string;
  image_url: string | null;
  image_token: string;
  image_file_key: string | null;
  image_source_url: string | null;
  image_file_size: string;
}

export async function find(db: Db, id: string): Promise<CardImageRow | undefined> {
  const [row] = await db<CardImageRow[]>`
    select id::text, image_url, image_token, image_file_key, image_source_url, image_file_size::text from preview_cards where id = ${id}`;
  return row;
}

/**
 * Record a fetched copy, only if the card still has the image it was made from. Returns the key it replaced
 * (a previous image's file, to delete) or undefined when nothing was written (card gone or image changed).
 */
export async function fill(
  db: Db,
  id: string,
  sourceUrl: string,
  file: { key: string; contentType: string; size: number; blurhash: string },
): Promise<{ replaced: string | null } | undefined> {
  const [row] = await db<{ replaced: string | null }[]>`
    update preview_cards c set image_file_key = ${file.key}, image_content_type = ${file.contentType}, image_file_size = ${file.size},
      image_source_url = ${sourceUrl}, image_blurhash = ${file.blurhash}, image_accessed_at = now()
    from (select id, image_file_key from preview_cards where id = ${id} for update) old
    where c.id = old.id and c.image_url = ${sourceUrl}
    returning old.image_file_key as replaced`;
  return row;
}

export async function touch(db: Db, id: string): Promise<void> {
  await db`update preview_cards set image_accessed_at = now() where id = ${id} and image_file_key is not null`;
}

/** Forget cached copies; returns the freed keys and sizes (each row once). */
export async function evict(db: Db, ids: string[]): Promise<{ id: string; key: string; bytes: string }[]> {
  if (ids.length === 0) return [];
  return db<{ id: string; key: string; bytes: string }[]>`
    update preview_cards c set image_file_key = null, image_content_type = null, image_file_size = 0, image_source_url = null,
      image_accessed_at = null
    from (select id, image_file_key, image_file_size from preview_cards
          where id = any(${ids}::bigint[]) and image_file_key is not null for update skip locked) old
    where c.id = old.id
    returning old.id::text as id, old.image_file_key as key, old.image_file_size::text as bytes`;
}

export async function totals(db: Db): Promise<{ count: number; bytes: number }> {
  const [row] = await db<{ count: string; bytes: string }[]>`
    select count(*)::text as count, coalesce(sum(image_file_size), 0)::text as bytes from preview_cards where image_file_key is not null`;
  return { count: Number(row!.count), bytes: Number(row!.bytes) };
}

/** Cached card images last viewed before `before`, oldest first. */
export async function stale(db: Db, before: Date, limit: number): Promise<{ id: string; bytes: string }[]> {
  return db<{ id: string; bytes: string }[]>`
    select id::text, image_file_size::text as bytes from preview_cards
    where image_file_key is not null and image_accessed_at < ${before} order by image_accessed_at, id limit ${limit}`;
}

/** When the least recently viewed cached card image was last viewed (null: never, or none cached). */
export async function oldestView(db: Db): Promise<{ id: string; bytes: string; at: Date | null } | undefined> {
  const [row] = await db<{ id: string; bytes: string; at: Date | null }[]>`
    select id::text, image_file_size::text as bytes, image_accessed_at as at from preview_cards
    where image_file_key is not null order by image_accessed_at nulls first, id limit 1`;
  return row;
}

export interface MixedCandidate {
  kind: "media" | "card";
  id: string;
  bytes: string;
}

/**
 * The storage budget's LRU over both kinds of cached remote files (attachment copies and card images), the
 * least recently viewed first, taken while the bytes before them are still short of `excess`.
 */
export async function leastRecentlyViewedMixed(db: Db, excess: number, limit: number, skipMedia: string[] = [], skipCards: string[] = []): Promise<MixedCandidate[]> {
  return db<MixedCandidate[]>`
    select kind, id, bytes from (
      select kind, id, size::text as bytes, sum(size) over (order by at nulls first, kind, id) as running, size, at
      from (
        select 'media' as kind, id::text as id, (file_size + small_file_size) as size, cache_accessed_at as at from media_attachments
        where remote_url is not null and file_key is not null and not (id = any(${skipMedia}::bigint[]))
        union all
        select 'card', id::text, image_file_size, image_accessed_at from preview_cards
        where image_file_key is not null and not (id = any(${skipCards}::bigint[]))
      ) both_kinds
      order by at nulls first, kind, id
      limit ${limit}) lru
    where running - size < ${excess}`;
}
