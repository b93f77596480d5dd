/**
 * SQL for filters (v2: a filter with keywords and statuses; v1 filters are single keywords of them). Every
 * query is scoped by the owning account, so someone else's filter, keyword or status row is never found.
 */
import type { Db } from "../../infra/db";

export type FilterAction = "warn" | "hide" | "blur";

export interface FilterRow {
  id: string;
  account_id: string;
  title: string;
  context: string[];
  filter_action: FilterAction;
  expires_at: Date | null;
  created_at: Date;
}

export interface KeywordRow {
  id: string;
  filter_id: string;
  keyword: string;
  whole_word: boolean;
}

export interface FilterStatusRow {
  id: string;
  filter_id: string;
  status_id: string;
}

export interface FullFilter extends FilterRow {
  keywords: KeywordRow[];
  statuses: FilterStatusRow[];
}

export async function filtersOf(db: Db, accountId: string, ids?: string[]): Promise<FullFilter[]> {
  const filters = ids
    ? await db<FilterRow[]>`select * from filters where account_id = ${accountId} and id = any(${ids}::bigint[]) order by id`
    : await db<FilterRow[]>`select * from filters where account_id = ${accountId} order by id`;
  if (filters.length === 0) return [];
  const filterIds = filters.map((f) => f.id);
  const [keywords, statuses] = await Promise.all([
    db<KeywordRow[]>`select id, filter_id, keyword, whole_word from filter_keywords where filter_id = any(${filterIds}::bigint[]) order by id`,
    db<FilterStatusRow[]>`select id, filter_id, status_id from filter_statuses where filter_id = any(${filterIds}::bigint[]) order by id`,
  ]);
  return filters.map((f) => ({ ...f, keywords: keywords.filter((k) => k.filter_id === f.id), statuses: statuses.filter((s) => s.filter_id === f.id) }));
}

export async function countFilters(db: Db, accountId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from filters where account_id = ${accountId}`;
  return row!.n;
}

export async function insertFilter(db: Db, accountId: string, f: { title: string; context: string[]; action: FilterAction; expiresAt: Date | null }): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into filters (account_id, title, context, filter_action, expires_at)
    values (${accountId}, ${f.title}, ${f.context}::text[], ${f.action}, ${f.expiresAt}) returning id`;
  return row!.id;
}

export async function updateFilter(
  db: Db,
  accountId: string,
  id: string,
  f: { title?: string; context?: string[]; action?: FilterAction; expiresAt?: Date | null },
): Promise<void> {
  await db`
    update filters set
      title = coalesce(${f.title ?? null}, title),
      context = coalesce(${f.context ?? null}::text[], context),
      filter_action = coalesce(${f.action ?? null}, filter_action),
      expires_at = case when ${f.expiresAt !== undefined} then ${f.expiresAt ?? null}::timestamptz else expires_at end,
      updated_at = now()
    where account_id = ${accountId} and id = ${id}`;
}

export async function deleteFilter(db: Db, accountId: string, id: string): Promise<boolean> {
  const rows = await db`delete from filters where account_id = ${accountId} and id = ${id} returning id`;
  return rows.length > 0;
}

export async function insertKeyword(db: Db, filterId: string, keyword: string, wholeWord: boolean): Promise<KeywordRow> {
  const [row] = await db<KeywordRow[]>`
    insert into filter_keywords (filter_id, keyword, whole_word) values (${filterId}, ${keyword}, ${wholeWord})
    returning id, filter_id, keyword, whole_word`;
  return row!;
}

export async function countKeywords(db: Db, filterId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from filter_keywords where filter_id = ${filterId}`;
  return row!.n;
}

/** A keyword with its filter's owner checked. */
export async function findKeyword(db: Db, accountId: string, id: string): Promise<KeywordRow | undefined> {
  const [row] = await db<KeywordRow[]>`
    select k.id, k.filter_id, k.keyword, k.whole_word from filter_keywords k join filters f on f.id = k.filter_id
    where k.id = ${id} and f.account_id = ${accountId}`;
  return row;
}

export async function updateKeyword(db: Db, filterId: string, id: string, k: { keyword?: string; wholeWord?: boolean }): Promise<void> {
  await db`
    update filter_keywords set keyword = coalesce(${k.keyword ?? null}, keyword), whole_word = coalesce(${k.wholeWord ?? null}, whole_word)
    where filter_id = ${filterId} and id = ${id}`;
}

export async function deleteKeyword(db: Db, filterId: string, id: string): Promise<void> {
  await db`delete from filter_keywords where filter_id = ${filterId} and id = ${id}`;
}

export async function insertFilterStatus(db: Db, filterId: string, statusId: string): Promise<FilterStatusRow | undefined> {
  const [row] = await db<FilterStatusRow[]>`
    insert into filter_statuses (filter_id, status_id) values (${filterId}, ${statusId})
    on conflict (filter_id, status_id) do nothing returning id, filter_id, status_id`;
  return row;
}

export async function findFilterStatus(db: Db, accountId: string, id: string): Promise<FilterStatusRow | undefined> {
  const [row] = await db<FilterStatusRow[]>`
    select s.id, s.filter_id, s.status_id from filter_statuses s join filters f on f.id = s.filter_id
    where s.id = ${id} and f.account_id = ${accountId}`;
  return row;
}

export async function deleteFilterStatus(db: Db, id: string): Promise<void> {
  await db`delete from filter_statuses where id = ${id}`;
}

/** The filter owning a v1 filter id (a keyword id). */
export async function keywordFilterId(db: Db, accountId: string, keywordId: string): Promise<string | undefined> {
  return (await findKeyword(db, accountId, keywordId))?.filter_id;
}
