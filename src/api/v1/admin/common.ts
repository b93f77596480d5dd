/** Shared pieces of the admin API: the id path parameter and one paginated list answer. */
import * as v from "valibot";
import type { AppContext } from "../../../infra/context";
import { isAccountId as isBigintId } from "../../../features/accounts/service";
import { ApiError } from "../../../infra/errors";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, type PageParams } from "../../pagination";

export const idParams = v.object({ id: v.string() });

/** Ids are positive bigints; anything else cannot name a record (404 rather than a database error). */
export function checkedId(id: string): string {
  if (!isBigintId(id)) throw ApiError.notFound();
  return id;
}

/**
 * Read a page of rows with `load` (newest id first), set the Link header and return them. Mastodon's admin
 * lists default to 100 rows and allow 200.
 */
export async function paged<T extends { id: string }>(
  context: AppContext,
  query: { max_id?: string; since_id?: string; min_id?: string; limit?: string },
  request: Request,
  set: { headers: Record<string, string | number> },
  load: (page: ReturnType<typeof pageWhere>, params: PageParams) => Promise<T[]>,
  defaultLimit = 100,
): Promise<T[]> {
  const params = pageParams(query, defaultLimit, 200);
  const rows = inDisplayOrder(await load(pageWhere(context.sql, context.sql`x.id`, params), params), params);
  const link = linkHeader(request.url, context.config.baseUrl, rows.map((r) => r.id));
  if (link) set.headers.link = link;
  return rows;
}

/** Optional text that may arrive as null from JSON clients. */
export const optionalText = (max: number) => v.pipe(v.nullish(v.pipe(v.string(), v.maxLength(max, `is too long (maximum is ${max} characters)`))), v.transform((s) => s ?? undefined));
