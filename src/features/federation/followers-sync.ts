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
 *   ours differs, we read its list (at most once per actor and digest an hour) and mend our side as Mastodon does:
 *   our local accounts it no longer lists stop following (with an Undo sent, as an unfollow); accounts it
 *   lists that we hold only as a pending request become follows; accounts it lists that do not follow at all
 *   get an Undo(Follow) sent, so the other side drops them too.
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
import { fetchActivityJson } from "./fetch";
import { followersDigest, originOf, parseSynchronizationHeader } from "./followers-digest";
import { findRemoteByUri } from "./remote-accounts";

/** How many URIs a partial collection may list before we stop reading it (a hostile one can be huge). */
const MAX_ITEMS = 50_000;
/** Between two checks of the same digest from one actor (a server repeats it on every followers-only post). */
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

function syncKey(context: Pick<AppContext, "config">, actorUri: string, digest: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}federation:followers-sync:${createHash("sha256").update(`${actorUri} ${digest}`).digest("hex")}`;
}

/**
 * An inbox POST signed by `actorUri` carried the header: queue a check, unless this actor's collection is not
 * what it names, its list lives on another server, or the same digest from it was checked within the hour.
 * Costs one Redis command at the inbox edge; the comparison itself runs in the job.
 */
export async function noteSynchronizationHeader(context: AppContext, actorUri: string, header: string): Promise<void> {
  const params = parseSynchronizationHeader(header);
  if (!params || params.collectionId !== followersUrl(actorUri) || originOf(params.url) !== originOf(actorUri)) return;
  const fresh = await context.redis.set(syncKey(context, actorUri, params.digest), "1", "EX", SYNC_INTERVAL_SECONDS, "NX");
  if (fresh !== "OK") return;
  await context.queues.enqueue(synchronizeFollowersJob, { actorUri, url: params.url, digest: params.digest });
}

/** Our local accounts following the remote account `remoteId`, with their actor URIs. */
async function localFollowersOf(db: Db, remoteId: string): Promise<{ id: string; uri: string }[]> {
  return db<{ id: string; uri: string }[]>`
    select a.id, a.uri from follows f join accounts a on a.id = f.account_id where f.target_account_id = ${remoteId} and a.domain is null`;
}

/** Compare `digest` with what we hold and, when they differ, read the remote list and mend our side. */
export async function synchronizeFollowers(context: AppContext, actorUri: string, url: string, digest: string): Promise<"in sync" | "unknown actor" | "synchronized"> {
  const actor = await findRemoteByUri(context.sql, actorUri);
  if (!actor) return "unknown actor";
  const ours = await localFollowersOf(context.sql, actor.id);
  if (followersDigest(ours.map((a) => a.uri)) === digest) return "in sync";

  const { json } = await fetchActivityJson(context, url);
  const listed = itemsOf(json);
  const listedUris = new Set(listed);
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
  // Ours has it, theirs does not: they no longer deliver to it, so it is no follow any more.
  for (const follower of ours.filter((a) => !listedUris.has(a.uri))) await unfollow(context, { id: follower.id }, actor.id);
  log.info("followers synchronised", { actor: actorUri, listed: listed.length, ours: ours.length });
  return "synchronized";
}

/** The URIs an OrderedCollection (or its inline first page) lists, bounded; ids of embedded objects too. */
function itemsOf(json: Record<string, unknown>): string[] {
  const first = typeof json.first === "object" && json.first !== null ? (json.first as Record<string, unknown>) : undefined;
  const raw = json.orderedItems ?? json.items ?? first?.orderedItems ?? first?.items;
  if (!Array.isArray(raw)) return [];
  return raw
    .slice(0, MAX_ITEMS)
    .map((item) => (typeof item === "string" ? item : typeof item === "object" && item !== null ? (item as { id?: unknown }).id : undefined))
    .filter((id): id is string => typeof id === "string" && id.length <= 2048);
}
