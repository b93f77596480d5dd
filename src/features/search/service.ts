/**
 * Search (Mastodon's SearchService without Elasticsearch): accounts by handle and name prefix, hashtags by
 * prefix, statuses by Postgres full text — limited to what the searcher may see (statuses/visibility.ts) and
 * to what Mastodon makes searchable (store.ts `searchable`). Remote lookups (resolve=true with a handle or a
 * URL) go through federation; everything else is answered from our own tables.
 *
 * Every query runs with a statement timeout: a search is a read a stranger can trigger, so its cost is bounded.
 */
import { postingDefaults, type LocalAccountRow } from "../accounts/service";
import { isLocalDomain, parseHandle } from "../federation/remote-accounts";
import { resolveQuery } from "../federation/resolve";
import { normalizeTagName } from "../graph/service";
import { idAt } from "../trends/service";
import type { AppContext } from "../../infra/context";
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { isAnswerable, parseQuery } from "./query";
import * as store from "./store";

export type { TagHit } from "./store";

export type SearchType = "accounts" | "hashtags" | "statuses";

/** Mastodon has no limit on q; ours bounds the parsing and the tsquery a stranger can make us build. */
export const MAX_QUERY_LENGTH = 500;
/** Deep offsets cost as much as reading every earlier page; past this, page with max_id instead. */
export const MAX_OFFSET = 10_000;
const STATEMENT_TIMEOUT_MS = 5_000;
/** The language whose stemming every search also tries (most posts on the fediverse are in English). */
const FALLBACK_LANGUAGE = "en";

export interface SearchParams {
  q: string;
  type?: SearchType;
  resolve: boolean;
  following: boolean;
  accountId?: string;
  /** Hashtags only if moderators reviewed them for trends (features/trends; Mastodon's Tag.reviewed). */
  excludeUnreviewed: boolean;
  limit: number;
  offset: number;
  maxId?: string;
  minId?: string;
}

export interface SearchResult {
  accountIds: string[];
  statusIds: string[];
  tags: store.TagHit[];
}

/** Read-only work with a deadline; a query cancelled by it is a 503, as Mastodon answers when its search backend fails. */
async function bounded<T>(context: Pick<AppContext, "sql">, work: (db: Db) => Promise<T>): Promise<T> {
  try {
    return (await context.sql.begin("read only", async (tx) => {
      // No JIT either: compiling a plan costs more (~200 ms) than any search query should take to run.
      await tx`select set_config('statement_timeout', ${String(STATEMENT_TIMEOUT_MS)}, true), set_config('jit', 'off', true)`;
      return work(tx);
    })) as T;
  } catch (error) {
    if ((error as { code?: string }).code === "57014") throw ApiError.unavailable("Search took too long, try narrowing it down");
    throw error;
  }
}

const isUrl = (q: string) => /^https?:\/\/\S+$/i.test(q);

function knownByUrl(context: AppContext, url: string): Promise<{ accountIds: string[]; statusIds: string[] }> {
  return bounded(context, async (db) => ({ statusIds: await store.statusIdsByUrl(db, url), accountIds: await store.accountIdsByUrl(db, url) }));
}

export async function search(context: AppContext, viewer: LocalAccountRow | undefined, params: SearchParams): Promise<SearchResult> {
  const q = params.q.trim();
  const result: SearchResult = { accountIds: [], statusIds: [], tags: [] };
  const wants = (type: SearchType) => params.type === undefined || params.type === type;

  // A link pasted into the search box: the post or profile it names, never a text search for "https".
  if (isUrl(q)) {
    // With resolve, federation fetches what we do not know yet (remote failures are "nothing found").
    const found = params.resolve ? await resolveQuery(context, q) : await knownByUrl(context, q);
    if (wants("accounts")) result.accountIds = found.accountIds;
    if (wants("statuses") && viewer) result.statusIds = found.statusIds;
    return result;
  }

  // As Mastodon: "#tag" is no account search, and nothing with an "@" is a hashtag search.
  if (wants("accounts") && !q.startsWith("#")) {
    result.accountIds = await searchAccounts(context, viewer, { q, limit: params.limit, offset: params.offset, resolve: params.resolve, following: params.following });
  }
  if (wants("hashtags") && !q.includes("@")) result.tags = await searchHashtags(context, q, params.limit, params.offset, params.excludeUnreviewed);
  // Mastodon searches statuses only for a signed-in person, and not for a lone #tag or @handle.
  const lone = !/\s/.test(q) && (/^[#@]/.test(q) || (!q.includes(":") && parseHandle(q) !== undefined));
  if (wants("statuses") && viewer && !lone) {
    result.statusIds = await searchStatuses(context, viewer, params);
  }
  return result;
}

/** The prefix tsquery for account search: each run of letters and digits becomes "word:*", all required. */
function prefixQuery(text: string): string | null {
  const words = (text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 5).map((w) => w.slice(0, 64));
  return words.length ? words.map((w) => `${w}:*`).join(" & ") : null;
}

export interface AccountSearchParams {
  q: string;
  limit: number;
  offset: number;
  resolve: boolean;
  following: boolean;
}

/** Accounts for the search box or /api/v1/accounts/search: the exact handle first, then by prefix. */
export async function searchAccounts(context: AppContext, viewer: LocalAccountRow | undefined, params: AccountSearchParams): Promise<string[]> {
  const q = params.q.trim().replace(/^@/, "");
  const at = q.indexOf("@");
  const name = (at >= 0 ? q.slice(0, at) : q).trim();
  const written = at >= 0 ? q.slice(at + 1).trim().toLowerCase() : "";
  // undefined: any domain ("alice", "alice@"); null: ours ("alice@this.instance"); else that domain (a prefix).
  const domain: string | null | undefined = written === "" ? undefined : isLocalDomain(context, written) ? null : written;

  const resolved: string[] = [];
  const handle = domain ? parseHandle(`${name}@${domain}`) : undefined;
  if (params.resolve && handle && params.offset === 0) {
    // user@remote.example: ask its server (WebFinger) when we do not know the account or our copy is stale.
    resolved.push(...(await resolveQuery(context, `${handle.username}@${handle.domain}`)).accountIds);
  }

  const ids = await bounded(context, (db) =>
    store.searchAccountIds(db, {
      viewerId: viewer?.id ?? null,
      prefixQuery: prefixQuery(name),
      // The handle written in full ranks first; a bare name ranks the local account of that name first.
      exact: name && /^[\w.-]+$/.test(name) ? { username: name, domain: domain ?? null } : undefined,
      domainPrefix: typeof domain === "string" ? domain.replace(/[\\%_]/g, (c) => `\\${c}`) : undefined,
      localDomainOnly: domain === null,
      following: params.following,
      limit: params.limit,
      offset: params.offset,
    }),
  );
  return [...new Set([...resolved, ...ids])].slice(0, params.limit);
}

/** Hashtags by prefix ("#caf" finds #café and #cafe). Anything that cannot be a hashtag finds none. */
export async function searchHashtags(context: AppContext, q: string, limit: number, offset: number, reviewedOnly = false): Promise<store.TagHit[]> {
  const normal = normalizeTagName(q);
  if (!normal) return [];
  return bounded(context, (db) => store.searchTags(db, normal.name, limit, offset, reviewedOnly));
}

/** The languages a viewer's query is stemmed in: theirs (interface and posting language) and English. */
function viewerLanguages(viewer: LocalAccountRow): string[] {
  const languages = new Set<string>([FALLBACK_LANGUAGE]);
  const locale = viewer.user.locale?.slice(0, 2).toLowerCase();
  if (locale && /^[a-z]{2}$/.test(locale)) languages.add(locale);
  const posting = postingDefaults(viewer.user).language;
  if (posting && /^[a-z]{2}$/.test(posting)) languages.add(posting);
  return [...languages];
}

async function searchStatuses(context: AppContext, viewer: LocalAccountRow, params: SearchParams): Promise<string[]> {
  const parsed = parseQuery(params.q);
  if (!isAnswerable(parsed)) return [];
  return bounded(context, async (db) => {
    let tsquery: string | null = null;
    if (parsed.positiveTerms > 0 || parsed.text.trim() !== "") {
      const built = await store.buildTsQuery(db, parsed.text, parsed.language ? [parsed.language] : viewerLanguages(viewer));
      if (built.indexable) tsquery = built.tsquery;
      else if (!parsed.from.some((f) => !f.negated)) return [];
      else if (built.tsquery !== "") tsquery = built.tsquery; // an author's posts, minus some words: bounded by the author
    }
    const fromIds: string[] = [];
    const notFromIds: string[] = [];
    for (const { ref, negated } of parsed.from) {
      const id = ref.me ? viewer.id : await store.accountIdByHandle(db, ref.username, ref.domain && !isLocalDomain(context, ref.domain) ? ref.domain : null);
      if (id) (negated ? notFromIds : fromIds).push(id);
      else if (!negated) return []; // from an account we do not know: nothing
    }
    const query: store.StatusSearch = {
      viewerId: viewer.id,
      tsquery,
      libraryOnly: parsed.libraryOnly,
      accountId: params.accountId,
      fromIds,
      notFromIds,
      has: parsed.has,
      is: parsed.is,
      language: parsed.language,
      before: parsed.before,
      after: parsed.after,
      belowId: params.maxId,
      aboveId: params.minId,
      limit: params.limit,
      offset: params.offset,
    };
    if (tsquery === null) return store.searchStatusIds(db, query);
    await store.planForWordSearch(db);
    return newestFirstByWindows(db, query);
  });
}

/** How far back each step of a word search reaches, newest first; the last step has no lower end. */
const WINDOWS_MS = [24 * 3600 * 1000, 8 * 24 * 3600 * 1000, 64 * 24 * 3600 * 1000];

/**
 * Results are the newest matches, but a common word matches hundreds of thousands of posts, and reading them
 * all to keep 20 is what makes full-text search slow. So the search walks back in time: the last day, then
 * the week before, then two months, then everything older — disjoint id ranges, newest first — and stops as
 * soon as it holds offset + limit results (store.searchStatusIds runs them as one query that stops early).
 * A rare word costs a few more index lookups; a common word is answered from the last day.
 */
function newestFirstByWindows(db: Db, query: store.StatusSearch): Promise<string[]> {
  const now = Date.now();
  const windows: store.IdWindow[] = [];
  let below: string | undefined;
  for (const span of WINDOWS_MS) {
    const from = idAt(new Date(now - span));
    windows.push({ below, from });
    below = from;
  }
  windows.push({ below });
  return store.searchStatusIds(db, query, windows);
}

/**
 * `woolly admin search rebuild` (tootctl search deploy's job): rebuild the search indexes from the tables.
 * Needed after changing woolly_search_config (a language mapping) or to compact a bloated index; writes go on
 * meanwhile (REINDEX CONCURRENTLY). Returns each index's size afterwards.
 */
export async function rebuildSearchIndexes(sql: Sql, progress?: (index: string) => void): Promise<{ index: string; bytes: number }[]> {
  const out: { index: string; bytes: number }[] = [];
  for (const index of store.SEARCH_INDEXES) {
    progress?.(index);
    await store.reindex(sql, index);
    out.push({ index, bytes: await store.indexSize(sql, index) });
  }
  return out;
}
