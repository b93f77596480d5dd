/**
 * Remote resolution for search with resolve=true (Mastodon's ResolveURLService / ResolveAccountService):
 * - `@user@domain` or `user@domain` → WebFinger, then the actor (resolveRemoteAccount);
 * - an http(s) URL → ours when it names a local status or account; else a signed GET, and whatever came
 *   back is stored: an actor (Person, Service…) or a post (Note, Question, Article, Page).
 * Failures of the other side (unreachable, 404, not ActivityPub) mean "nothing found", never an error: search
 * shows what it has.
 */
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { fetchActivityJson, FetchFailed } from "./fetch";
import * as inbound from "./handlers/store";
import { httpUrl, NOTE_TYPES, storeFetchedStatus, typeOf } from "./remote-statuses";
import { ACTOR_TYPES, fetchRemoteActor, isLocalDomain, parseHandle, resolveRemoteAccount } from "./remote-accounts";

export interface Resolved {
  accountIds: string[];
  statusIds: string[];
}

const MAX_QUERY = 2048;

async function resolveUrl(context: AppContext, url: string): Promise<Resolved> {
  const empty: Resolved = { accountIds: [], statusIds: [] };
  const known = await inbound.statusByUri(context.sql, url);
  if (known) return known.deleted_at ? empty : { accountIds: [], statusIds: [known.id] };
  const [account] = await inbound.accountsByUris(context.sql, [url]);
  if (account) return { accountIds: [account.id], statusIds: [] };
  if (isLocalDomain(context, new URL(url).host)) return empty;

  const fetched = await fetchActivityJson(context, url);
  const type = typeOf(fetched.json);
  if (ACTOR_TYPES.includes(type)) {
    const id = typeof fetched.json.id === "string" ? fetched.json.id : url;
    return { accountIds: [(await fetchRemoteActor(context, id)).id], statusIds: [] };
  }
  if (NOTE_TYPES.includes(type)) {
    // A URL like /@bob/123 answers with the object whose id is canonical: stored under that id.
    const statusId = await storeFetchedStatus(context, url, fetched);
    return statusId ? { accountIds: [], statusIds: [statusId] } : empty;
  }
  return empty;
}

export async function resolveQuery(context: AppContext, q: string): Promise<{ accountIds: string[]; statusIds: string[] }> {
  const query = q.trim();
  if (query === "" || query.length > MAX_QUERY) return { accountIds: [], statusIds: [] };
  try {
    const url = httpUrl(query);
    if (url) return await resolveUrl(context, url);
    if (parseHandle(query)) {
      const account = await resolveRemoteAccount(context, query);
      return { accountIds: account ? [account.id] : [], statusIds: [] };
    }
  } catch (error) {
    if (!(error instanceof FetchFailed)) throw error;
    log.info("remote resolution failed", { query, error: error.message });
  }
  return { accountIds: [], statusIds: [] };
}
