/**
 * Mastodon's pagination, in one place: `max_id` (older than), `since_id` (newer than, newest page first),
 * `min_id` (immediately newer, paging forward), `limit` (clamped to the endpoint's maximum; negative → 400),
 * and the `Link` header with rel="next" (older) and rel="prev" (newer) built from the page's own cursors.
 * Cursors are the paginated column's ids (a status id for timelines, a row id for follows, favourites…).
 */
import * as v from "valibot";
import type { Db } from "../infra/db";
import { ApiError } from "../infra/errors";

const ID = /^\d{1,19}$/;
const MAX_BIGINT = 9223372036854775807n;

export interface PageParams {
  maxId?: string;
  sinceId?: string;
  minId?: string;
  limit: number;
}

/** The query schema entries every paginated endpoint accepts; merge into the endpoint's own v.object. */
export const paginationEntries = {
  max_id: v.optional(v.string()),
  since_id: v.optional(v.string()),
  min_id: v.optional(v.string()),
  limit: v.optional(v.string()),
};

function cursor(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (!ID.test(value) || BigInt(value) > MAX_BIGINT) throw ApiError.badRequest(`${name} must be a numeric id`);
  return value;
}

/** Read pagination from a validated query object, e.g. pageParams(input.query, 20, 40). */
export function pageParams(query: { max_id?: string; since_id?: string; min_id?: string; limit?: string }, defaultLimit: number, maxLimit = defaultLimit * 2): PageParams {
  let limit = defaultLimit;
  if (query.limit !== undefined && query.limit !== "") {
    if (!/^-?\d{1,9}$/.test(query.limit)) throw ApiError.badRequest("limit must be a number");
    const n = Number(query.limit);
    if (n < 0) throw ApiError.badRequest("limit must not be negative");
    limit = Math.min(Math.max(n, 1), maxLimit);
  }
  return { maxId: cursor("max_id", query.max_id), sinceId: cursor("since_id", query.since_id), minId: cursor("min_id", query.min_id), limit };
}

/**
 * The WHERE and ORDER BY for a page over `column` (a bigint id column, given as a fragment like sql`s.id`).
 * Rows come back newest first in every case (a min_id page is fetched ascending, then reversed by the caller
 * with `inDisplayOrder`).
 */
export function pageWhere(sql: Db, column: ReturnType<Db["unsafe"]> | any, page: PageParams) {
  const parts = [sql`true`];
  if (page.maxId) parts.push(sql`${column} < ${page.maxId}`);
  if (page.minId) parts.push(sql`${column} > ${page.minId}`);
  else if (page.sinceId) parts.push(sql`${column} > ${page.sinceId}`);
  const where = parts.reduce((a, b) => sql`${a} and ${b}`);
  const order = page.minId ? sql`${column} asc` : sql`${column} desc`;
  return { where, order, limit: page.limit };
}

/** A min_id page was read oldest-first; clients want newest-first. */
export function inDisplayOrder<T>(rows: T[], page: PageParams): T[] {
  return page.minId ? [...rows].reverse() : rows;
}

/**
 * `Link: <…?max_id=OLDEST>; rel="next", <…?min_id=NEWEST>; rel="prev"` for a page whose cursors (newest
 * first) are `cursors`. No header for an empty page, as Mastodon.
 */
export function linkHeader(requestUrl: string, baseUrl: string, cursors: string[]): string | undefined {
  if (cursors.length === 0) return undefined;
  const url = new URL(requestUrl);
  const make = (name: "max_id" | "min_id", value: string) => {
    const params = new URLSearchParams(url.search);
    for (const key of ["max_id", "min_id", "since_id"]) params.delete(key);
    params.set(name, value);
    return `<${baseUrl}${url.pathname}?${params}>`;
  };
  return `${make("max_id", cursors[cursors.length - 1]!)}; rel="next", ${make("min_id", cursors[0]!)}; rel="prev"`;
}
