/**
 * Filters (Mastodon's CustomFilter): CRUD of v2 filters with their keywords and statuses, and v1 filters
 * answered from them (a v1 filter is one keyword of a v2 filter, its id the keyword's). Every change commits
 * in one transaction, then bumps the compiled-filter cache version and tells the account's streams
 * (`filters_changed`). Errors are Mastodon's 404 for anything not the caller's, 422 with Rails' messages.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { log } from "../../infra/log";
import { findVisibleStatus, isStatusId } from "../statuses/service";
import { homeChannel, systemChannel } from "../streaming/channels";
import { bumpFiltersVersion } from "./cache";
import { FILTER_CONTEXTS } from "./match";
import * as store from "./store";

export type { FullFilter, KeywordRow, FilterStatusRow, FilterAction } from "./store";

/** Mastodon's column limits (title 256, keyword 512); the counts bound what one account may store. */
const MAX_TITLE = 256;
const MAX_KEYWORD = 512;
const MAX_FILTERS = 300;
const MAX_KEYWORDS_PER_FILTER = 300;
/** expires_in: at most ten years, so a hostile value cannot overflow a timestamp. */
const MAX_EXPIRES_IN = 10 * 365 * 24 * 3600;
const ACTIONS = ["warn", "hide", "blur"] as const;

export interface KeywordAttributes {
  id?: string;
  keyword?: string;
  whole_word?: boolean;
  _destroy?: boolean;
}

export interface FilterInput {
  title?: string;
  context?: string[];
  filter_action?: string;
  /** Seconds from now; null or "" clears the expiry. */
  expires_in?: number | null;
  keywords_attributes?: KeywordAttributes[];
}

const invalid = (message: string) => ApiError.unprocessable(`Validation failed: ${message}`);

function checkTitle(title: string | undefined, required: boolean): string | undefined {
  if (title === undefined) {
    if (required) throw invalid("Title can't be blank");
    return undefined;
  }
  const trimmed = title.trim();
  if (trimmed === "") throw invalid("Title can't be blank");
  if (trimmed.length > MAX_TITLE) throw invalid(`Title is too long (maximum is ${MAX_TITLE} characters)`);
  return trimmed;
}

function checkContext(context: string[] | undefined, required: boolean): string[] | undefined {
  if (context === undefined) {
    if (required) throw invalid("Context can't be blank");
    return undefined;
  }
  const values = [...new Set(context.filter((c) => c !== ""))];
  if (values.length === 0) throw invalid("Context can't be blank");
  if (!values.every((c) => (FILTER_CONTEXTS as readonly string[]).includes(c))) throw invalid("Context None or invalid context supplied");
  return values;
}

function checkAction(action: string | undefined): store.FilterAction | undefined {
  if (action === undefined || action === "") return undefined;
  if (!(ACTIONS as readonly string[]).includes(action)) throw invalid("Filter action is not included in the list");
  return action as store.FilterAction;
}

function checkExpiry(expiresIn: number | null | undefined): Date | null | undefined {
  if (expiresIn === undefined) return undefined;
  if (expiresIn === null) return null;
  if (!Number.isInteger(expiresIn) || expiresIn <= 0 || expiresIn > MAX_EXPIRES_IN) throw invalid("Expires in must be a positive number of seconds");
  return new Date(Date.now() + expiresIn * 1000);
}

function checkKeyword(keyword: string | undefined): string {
  const value = (keyword ?? "").trim();
  if (value === "") throw invalid("Keywords keyword can't be blank");
  if (value.length > MAX_KEYWORD) throw invalid(`Keywords keyword is too long (maximum is ${MAX_KEYWORD} characters)`);
  return value;
}

/** After a commit: caches everywhere are stale, and the account's streams hear `filters_changed`. */
async function changed(context: AppContext, accountId: string): Promise<void> {
  await bumpFiltersVersion(context, accountId);
  const ns = context.config.redis.namespace;
  try {
    const message = JSON.stringify({ event: "filters_changed" });
    await context.redis.pipeline().publish(homeChannel(ns, accountId), message).publish(systemChannel(ns, accountId), message).exec();
  } catch (error) {
    // Live clients missing one refresh hint is not worth failing a committed change.
    log.warn("filters: publishing filters_changed failed", { error: String((error as Error)?.message ?? error) });
  }
}

export async function listFilters(sql: Db, accountId: string): Promise<store.FullFilter[]> {
  return store.filtersOf(sql, accountId);
}

export async function findFilter(sql: Db, accountId: string, id: string): Promise<store.FullFilter> {
  const [filter] = isStatusId(id) ? await store.filtersOf(sql, accountId, [id]) : [];
  if (!filter) throw ApiError.notFound();
  return filter;
}

async function applyKeywords(tx: Db, filterId: string, attributes: KeywordAttributes[]): Promise<void> {
  for (const k of attributes) {
    if (k.id !== undefined && k.id !== "") {
      if (!isStatusId(k.id)) throw ApiError.notFound();
      if (k._destroy) await store.deleteKeyword(tx, filterId, k.id);
      else await store.updateKeyword(tx, filterId, k.id, { keyword: k.keyword === undefined ? undefined : checkKeyword(k.keyword), wholeWord: k.whole_word });
    } else if (!k._destroy) {
      await store.insertKeyword(tx, filterId, checkKeyword(k.keyword), k.whole_word ?? true);
    }
  }
  if ((await store.countKeywords(tx, filterId)) > MAX_KEYWORDS_PER_FILTER) throw invalid(`Keywords are too many (maximum is ${MAX_KEYWORDS_PER_FILTER})`);
}

export async function createFilter(context: AppContext, accountId: string, input: FilterInput): Promise<store.FullFilter> {
  const title = checkTitle(input.title, true)!;
  const contexts = checkContext(input.context, true)!;
  const action = checkAction(input.filter_action) ?? "warn";
  const expiresAt = checkExpiry(input.expires_in) ?? null;
  const id = await context.sql.begin(async (tx) => {
    // Serialise one account's creations so the count check holds under concurrent requests.
    await tx`select pg_advisory_xact_lock(hashtext('filters'), hashtext(${accountId}))`;
    if ((await store.countFilters(tx, accountId)) >= MAX_FILTERS) throw invalid(`Filters are too many (maximum is ${MAX_FILTERS})`);
    const id = await store.insertFilter(tx, accountId, { title, context: contexts, action, expiresAt });
    await applyKeywords(tx, id, input.keywords_attributes ?? []);
    return id;
  });
  await changed(context, accountId);
  return findFilter(context.sql, accountId, id);
}

export async function updateFilter(context: AppContext, accountId: string, id: string, input: FilterInput): Promise<store.FullFilter> {
  const filter = await findFilter(context.sql, accountId, id);
  const changes = {
    title: checkTitle(input.title, false),
    context: checkContext(input.context, false),
    action: checkAction(input.filter_action),
    expiresAt: checkExpiry(input.expires_in),
  };
  await context.sql.begin(async (tx) => {
    await store.updateFilter(tx, accountId, filter.id, changes);
    if (input.keywords_attributes) {
      // An id naming a keyword of another filter is someone else's (or nobody's): 404, nothing written.
      const own = new Set(filter.keywords.map((k) => k.id));
      if (input.keywords_attributes.some((k) => k.id !== undefined && k.id !== "" && !own.has(k.id))) throw ApiError.notFound();
      await applyKeywords(tx, filter.id, input.keywords_attributes);
    }
  });
  await changed(context, accountId);
  return findFilter(context.sql, accountId, filter.id);
}

export async function deleteFilter(context: AppContext, accountId: string, id: string): Promise<void> {
  if (!isStatusId(id) || !(await store.deleteFilter(context.sql, accountId, id))) throw ApiError.notFound();
  await changed(context, accountId);
}

// ---- keywords ----

export async function addKeyword(context: AppContext, accountId: string, filterId: string, input: { keyword?: string; whole_word?: boolean }): Promise<store.KeywordRow> {
  const filter = await findFilter(context.sql, accountId, filterId);
  const keyword = checkKeyword(input.keyword);
  const row = await context.sql.begin(async (tx) => {
    const row = await store.insertKeyword(tx, filter.id, keyword, input.whole_word ?? true);
    if ((await store.countKeywords(tx, filter.id)) > MAX_KEYWORDS_PER_FILTER) throw invalid(`Keywords are too many (maximum is ${MAX_KEYWORDS_PER_FILTER})`);
    return row;
  });
  await changed(context, accountId);
  return row;
}

export async function findKeyword(sql: Db, accountId: string, id: string): Promise<store.KeywordRow> {
  const row = isStatusId(id) ? await store.findKeyword(sql, accountId, id) : undefined;
  if (!row) throw ApiError.notFound();
  return row;
}

export async function updateKeyword(context: AppContext, accountId: string, id: string, input: { keyword?: string; whole_word?: boolean }): Promise<store.KeywordRow> {
  const row = await findKeyword(context.sql, accountId, id);
  await store.updateKeyword(context.sql, row.filter_id, row.id, { keyword: input.keyword === undefined ? undefined : checkKeyword(input.keyword), wholeWord: input.whole_word });
  await changed(context, accountId);
  return findKeyword(context.sql, accountId, id);
}

export async function deleteKeyword(context: AppContext, accountId: string, id: string): Promise<void> {
  const row = await findKeyword(context.sql, accountId, id);
  await store.deleteKeyword(context.sql, row.filter_id, row.id);
  await changed(context, accountId);
}

// ---- statuses ----

export async function addFilterStatus(context: AppContext, accountId: string, filterId: string, statusId: string | undefined): Promise<store.FilterStatusRow> {
  const filter = await findFilter(context.sql, accountId, filterId);
  if (!statusId || !isStatusId(statusId)) throw invalid("Status can't be blank");
  // Only a status the account can see may be filtered (an unknown one is Mastodon's 404).
  const status = await findVisibleStatus(context.sql, accountId, statusId);
  const row = await store.insertFilterStatus(context.sql, filter.id, status.id);
  if (!row) throw invalid("Status has already been taken");
  await changed(context, accountId);
  return row;
}

export async function findFilterStatus(sql: Db, accountId: string, id: string): Promise<store.FilterStatusRow> {
  const row = isStatusId(id) ? await store.findFilterStatus(sql, accountId, id) : undefined;
  if (!row) throw ApiError.notFound();
  return row;
}

export async function deleteFilterStatus(context: AppContext, accountId: string, id: string): Promise<void> {
  const row = await findFilterStatus(context.sql, accountId, id);
  await store.deleteFilterStatus(context.sql, row.id);
  await changed(context, accountId);
}

// ---- v1 filters: one keyword each ----

export interface V1Filter {
  keyword: store.KeywordRow;
  filter: store.FullFilter;
}

export interface V1Input {
  phrase?: string;
  context?: string[];
  irreversible?: boolean;
  whole_word?: boolean;
  expires_in?: number | null;
}

export async function listV1(sql: Db, accountId: string): Promise<V1Filter[]> {
  return (await store.filtersOf(sql, accountId)).flatMap((filter) => filter.keywords.map((keyword) => ({ keyword, filter })));
}

export async function findV1(sql: Db, accountId: string, id: string): Promise<V1Filter> {
  const keyword = await findKeyword(sql, accountId, id);
  return { keyword, filter: await findFilter(sql, accountId, keyword.filter_id) };
}

export async function createV1(context: AppContext, accountId: string, input: V1Input): Promise<V1Filter> {
  const phrase = checkKeyword(input.phrase);
  const filter = await createFilter(context, accountId, {
    title: phrase.slice(0, MAX_TITLE),
    context: input.context,
    filter_action: input.irreversible ? "hide" : "warn",
    expires_in: input.expires_in,
    keywords_attributes: [{ keyword: phrase, whole_word: input.whole_word ?? true }],
  });
  return { keyword: filter.keywords[0]!, filter };
}

export async function updateV1(context: AppContext, accountId: string, id: string, input: V1Input): Promise<V1Filter> {
  const current = await findV1(context.sql, accountId, id);
  // As Mastodon: a v1 update of a filter holding several keywords would change the others' settings too.
  if (current.filter.keywords.length > 1) throw invalid("You can't update a filter with multiple keywords through the v1 API");
  const phrase = input.phrase === undefined ? undefined : checkKeyword(input.phrase);
  await updateFilter(context, accountId, current.filter.id, {
    title: phrase?.slice(0, MAX_TITLE),
    context: input.context,
    filter_action: input.irreversible === undefined ? undefined : input.irreversible ? "hide" : "warn",
    expires_in: input.expires_in,
    keywords_attributes: phrase !== undefined || input.whole_word !== undefined ? [{ id: current.keyword.id, keyword: phrase, whole_word: input.whole_word }] : undefined,
  });
  return findV1(context.sql, accountId, id);
}

export async function deleteV1(context: AppContext, accountId: string, id: string): Promise<void> {
  const current = await findV1(context.sql, accountId, id);
  // The filter goes with its only keyword; a keyword of a bigger (v2-made) filter goes alone.
  if (current.filter.keywords.length <= 1) await deleteFilter(context, accountId, current.filter.id);
  else await deleteKeyword(context, accountId, id);
}
