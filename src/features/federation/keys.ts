/**
 * Public keys of remote actors, for checking the signatures on their requests.
 *
 * A keyId (`https://host/users/alice#main-key`, or GoToSocial's `…/main-key`) is fetched once: the answer
 * is either the actor (with `publicKey`) or the key itself (with `owner`, whose actor is then fetched and must
 * list that key). The actor is stored in `accounts` (its public_key column is the cache) and Redis remembers
 * keyId → actor URI for a day. When a signature fails with the cached key, the caller asks again with
 * `refresh` (the actor may have rotated its key): one fetch per failure, never more.
 */
import type { AppContext } from "../../infra/context";
import { fetchActivityJson, FetchFailed } from "./fetch";
import { findRemoteByUri, parseActor, storeActor } from "./remote-accounts";

const OWNER_TTL_SECONDS = 24 * 3600;

export interface RemoteKey {
  keyId: string;
  /** The actor URI that owns the key: must equal the activity's actor. */
  owner: string;
  pem: string;
}

function ownerKey(context: AppContext, keyId: string): string {
  return `${context.config.redis.namespace ? `${context.config.redis.namespace}:` : ""}fed:key-owner:${keyId}`;
}

async function cachedKey(context: AppContext, keyId: string): Promise<RemoteKey | undefined> {
  // Redis knows which actor owns the key; without it (expired, flushed), the usual `<actor>#main-key`
  // form names its actor, whose stored key is tried (a failure then re-fetches, as for rotation).
  const owner = (await context.redis.get(ownerKey(context, keyId))) ?? (keyId.includes("#") ? keyId.replace(/#.*$/, "") : undefined);
  if (!owner) return undefined;
  const account = await findRemoteByUri(context.sql, owner);
  return account?.public_key ? { keyId, owner, pem: account.public_key } : undefined;
}

async function fetchKey(context: AppContext, keyId: string): Promise<RemoteKey> {
  const url = keyId.replace(/#.*$/, "");
  const fetched = await fetchActivityJson(context, url);
  let actor = parseActor(fetched.json);
  if (!actor) {
    // A key document: its owner's actor must confirm that the key is theirs.
    const ownerUri = typeof fetched.json.owner === "string" ? fetched.json.owner : undefined;
    if (!ownerUri) throw new FetchFailed(`${keyId} is neither an actor nor a key`, false);
    actor = parseActor((await fetchActivityJson(context, ownerUri)).json);
    if (!actor) throw new FetchFailed(`${ownerUri} is not an actor`, false);
  } else if (new URL(fetched.url).host.toLowerCase() !== actor.host) {
    throw new FetchFailed(`${keyId}: the actor's id is not on the host that served it`, false);
  }
  if (!actor.publicKey || actor.publicKey.id !== keyId) throw new FetchFailed(`${actor.id} does not list the key ${keyId}`, false);
  const existing = await findRemoteByUri(context.sql, actor.id);
  await storeActor(context, actor, existing?.domain ?? actor.host);
  await context.redis.set(ownerKey(context, keyId), actor.id, "EX", OWNER_TTL_SECONDS);
  return { keyId, owner: actor.id, pem: actor.publicKey.pem };
}

export async function remoteKey(context: AppContext, keyId: string, options: { refresh?: boolean } = {}): Promise<RemoteKey> {
  if (!options.refresh) {
    const cached = await cachedKey(context, keyId);
    if (cached) return cached;
  }
  return fetchKey(context, keyId);
}

export async function forgetKeysOf(context: AppContext, keyIds: string[]): Promise<void> {
  if (keyIds.length) await context.redis.del(...keyIds.map((k) => ownerKey(context, k)));
}
