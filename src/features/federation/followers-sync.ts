/**
 * Followers-collection synchronisation (FEP-8fcf; Mastodon's `Collection-Synchronization` header and
 * SynchronizeFollowersService). Follows get lost between servers — a dropped Undo, a restored backup — and a
 * server that believes someone follows an account keeps sending them followers-only posts. So:
 *
 * - Sending: every followers-only delivery carries a digest of the followers we believe the receiving
 *   server has (XOR of SHA-256 of each follower's actor URI on that server), plus where to read that list:
 *   /users/:name/followers_synchronization, which answers a signed GET with our followers on the signer's
 *   server only.
 * - Receiving: when a server's delivery says its digest for the accounts here that follow its actor, and
 *   ours differs, we read its list (at most one read per remote actor an hour, whatever digests it sends, so a
 *   peer cannot make us fetch on every POST) and mend our side as Mastodon does: accounts it lists that we
 *   hold only as a pending request become follows; accounts it lists that do not follow at all get an
 *   Undo(Follow) sent, so the other side drops them too; and — only when the whole list was read (a paged
 *   one: at most MAX_PAGES pages, as Mastodon) — our local accounts it no longer lists stop following, with
 *   an Undo sent as for any unfollow. We chose unfollow over silently deleting the row, as Mastodon's
 *   UnfollowService does: the remote already stopped delivering, and the Undo tells it we agree.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { authorizeFollowRequest, unfollow } from "../graph/service";
import { followActivity, followersUrl, undoActivity } from "./activities";
import { preferredInbox } from "./addressing";
import { enqueueDeliveries } from "./delivery-jobs";
import { fetchActivityJson, FetchFailed } from "./fetch";
import { followersDigest, originOf, parseSynchronizationHeader } from "./followers-digest";
import { findRemoteByUri } from "./remote-accounts";

/** How many URIs a partial collection may list before we stop reading it (a hostile one can be huge). */
const MAX_ITEMS = 50_000;
/** How many pages of a paged collection we read (Mastodon's MAX_COLLECTION_PAGES). */
const MAX_PAGES = 10;
/**
 * Between two checks of the same digest from one actor (a server repeats it on every followers-only post),
 * and between two reads of one actor's list whatever digests it sends.
 */
const SYNC_INTERVAL_SECONDS = 3600;

export const synchronizeFollowersJob = defineJob({
  name: "federation.synchronize-followers",
  queue: "pull",
  schema: v.object({
    actorUri: v.pipe(v.string(), v.url(), v.maxLength(2048)),
    url: v.pipe(v.string(), v.url(), v.maxLength(2048)),
    digest: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  }),
  attempts: 3,
  backoffMs: 60_000,
  async handler(payload, context) {
    await synchronizeFollowers(context, payload.actorUri, payload.url, payload.digest);
  },
});

function redisKey(context: Pick<AppContext, "config">, kind: string, material: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}federation:${kind}:${createHash("sha256").update(material).digest("hex")}`;
}

/**
 * The remote actor's one read an hour. The slot remembers which sync took it, so BullMQ's retries of that
 * same job (a transient fetch failure) may still read; any other digest waits for the hour to pass.
 */
async function takeReadSlot(context: AppContext, actorUri: string, url: string, digest: string): Promise<boolean> {
  const key = redisKey(context, "followers-sync-read", actorUri);
  const owner = `${url} ${digest}`;
  if ((await context.redis.set(key, owner, "EX", SYNC_INTERVAL_SECONDS, "NX")) === "OK") return true;
  return (await context.redis.get(key)) === owner;
}

/**
 * An inbox POST signed by `actorUri` carried the header: queue a check, unless this actor's collection is not
 * what it names, its list lives on another server, or the same digest from it was checked within the hour.
 * Costs one Redis command at the inbox edge; the comparison itself runs in the job.
 */
export async function noteSynchronizationHeader(context: AppContext, actorUri: string, header: string): Promise<void> {
  const params = parseSynchronizationHeader(header);
  if (!params || params.collectionId !== followersUrl(actorUri) || originOf(params.url) !== originOf(actorUri)) return;
  const fresh = await context.redis.set(redisKey(context, "followers-sync", `${actorUri} ${params.digest}`), "1", "EX", SYNC_INTERVAL_SECONDS, "NX");
  if (fresh !== "OK") return;
  await context.queues.enqueue(synchronizeFollowersJob, { actorUri, url: params.url, digest: params.digest });
}

/** Our local accounts following the remote account `remoteId`, with their actor URIs. */
async function localFollowersOf(db: Db, remoteId: string): Promise<{ id: string; uri: string }[]> {
  return db<{ id: string; uri: string }[]>`
    select a.id, a.uri from follows f join accounts a on a.id = f.account_id where f.target_account_id = ${remoteId} and a.domain is null`;
}

/** Compare `digest` with what we hold and, when they differ, read the remote list and mend our side. */
export async function synchronizeFollowers(
  context: AppContext,
  actorUri: string,
  url: string,
  digest: string,
): Promise<"in sync" | "unknown actor" | "rate limited" | "unreadable" | "synchronized" | "partly synchronized"> {
  const actor = await findRemoteByUri(context.sql, actorUri);
  if (!actor) return "unknown actor";
  const ours = await localFollowersOf(context.sql, actor.id);
  if (followersDigest(ours.map((a) => a.uri)) === digest) return "in sync";
  if (!(await takeReadSlot(context, actorUri, url, digest))) return "rate limited";

  const origin = originOf(actorUri)!;
  let read: { uris: string[]; complete: boolean };
  try {
    read = await readCollection(context, url, origin);
  } catch (error) {
    // A server that may answer later gets the job's retries; one that answered nonsense gets nothing more.
    if (error instanceof FetchFailed && !error.transient) {
      log.info("followers list unreadable", { actor: actorUri, error: error.message });
      return "unreadable";
    }
    throw error;
  }
  const listedUris = new Set(read.uris);
  const local = await context.sql<{ id: string; uri: string; following: boolean; requested: boolean }[]>`
    select a.id, a.uri,
      exists (select 1 from follows f where f.account_id = a.id and f.target_account_id = ${actor.id}) as following,
      exists (select 1 from follow_requests r where r.account_id = a.id and r.target_account_id = ${actor.id}) as requested
    from accounts a where a.domain is null and a.uri = any(${[...listedUris]}::text[])`;

  // Theirs lists it, ours does not: a request they accepted without our hearing it, or a follow we dropped.
  for (const account of local.filter((a) => !a.following)) {
    if (account.requested) {
      await authorizeFollowRequest(context, { id: actor.id }, account.id);
    } else {
      // No id of ours for that follow: the Undo names actor and target, as Mastodon's does.
      const follow = followActivity(`${account.uri}#follows/sync/${actor.id}`, account.uri, actor.uri);
      await enqueueDeliveries(context, account.id, undoActivity(account.uri, follow), [actor.inbox_url ?? preferredInbox(actor)].filter((i): i is string => !!i));
    }
  }
  // Ours has it, theirs does not: they no longer deliver to it, so it is no follow any more. Only on a list
  // read to its end — a truncated one would look like everyone had left.
  if (read.complete) for (const follower of ours.filter((a) => !listedUris.has(a.uri))) await unfollow(context, { id: follower.id }, actor.id);
  log.info("followers synchronised", { actor: actorUri, listed: listedUris.size, ours: ours.length, complete: read.complete });
  return read.complete ? "synchronized" : "partly synchronized";
}

/** A signed GET of a collection or page, which must come from the actor's own server (before and after redirects). */
async function fetchOnOrigin(context: AppContext, url: string, origin: string): Promise<Record<string, unknown>> {
  if (originOf(url) !== origin) throw new FetchFailed(`${url} is not on ${origin}`, false);
  const fetched = await fetchActivityJson(context, url);
  if (originOf(fetched.url) !== origin) throw new FetchFailed(`${url} redirected off ${origin}`, false);
  return fetched.json;
}

/**
 * Every URI a collection lists, following `first` and `next` (Mastodon's process_collection!): complete
 * only when a page without `next` was reached within MAX_PAGES pages and MAX_ITEMS items.
 */
async function readCollection(context: AppContext, url: string, origin: string): Promise<{ uris: string[]; complete: boolean }> {
  let page = await fetchOnOrigin(context, url, origin);
  if (page.first !== undefined && page.first !== null) page = await pageOf(context, page.first, origin);
  const uris: string[] = [];
  for (let pages = 1; ; pages++) {
    uris.push(...itemsOf(page));
    const next = linkOf(page.next);
    if (!next) return { uris: uris.slice(0, MAX_ITEMS), complete: uris.length <= MAX_ITEMS };
    if (pages >= MAX_PAGES || uris.length >= MAX_ITEMS) return { uris: uris.slice(0, MAX_ITEMS), complete: false };
    page = await fetchOnOrigin(context, next, origin);
  }
}

/** An inline page, or the one a link names. */
async function pageOf(context: AppContext, value: unknown, origin: string): Promise<Record<string, unknown>> {
  if (typeof value === "object" && value !== null && !Array.isArray(value) && ("orderedItems" in value || "items" in value)) return value as Record<string, unknown>;
  const link = linkOf(value);
  if (!link) throw new FetchFailed("the collection's first page is neither a page nor a link", false);
  return fetchOnOrigin(context, link, origin);
}

/** A link given as a string or as an object with an id. */
function linkOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    const id = (value as { id?: unknown; href?: unknown }).id ?? (value as { href?: unknown }).href;
    if (typeof id === "string") return id;
  }
  return undefined;
}

/** The URIs one collection page lists, bounded; ids of embedded objects too. */
function itemsOf(json: Record<string, unknown>): string[] {
  const raw = json.orderedItems ?? json.items;
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  return list
    .slice(0, MAX_ITEMS)
    .map((item) => (typeof item === "string" ? item : typeof item === "object" && item !== null ? (item as { id?: unknown }).id : undefined))
    .filter((id): id is string => typeof id === "string" && id.length <= 2048);
}
