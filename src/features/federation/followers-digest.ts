/**
 * The sending half of followers-collection synchronisation (FEP-8fcf; see followers-sync.ts for the whole
 * story): the digest of the followers a receiving server should believe we have there, the header that
 * carries it on followers-only deliveries, and the partial collection a signed GET from that server reads.
 * Kept apart from followers-sync.ts so delivery can use it without an import cycle.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { followersUrl } from "./activities";

/** Mastodon's header name (HTTP header names are matched case-insensitively). */
export const SYNC_HEADER = "collection-synchronization";

/** FEP-8fcf's digest: the XOR of the SHA-256 of each distinct URI, as 64 hex digits (all zeros for none). */
export function followersDigest(uris: Iterable<string>): string {
  const result = Buffer.alloc(32);
  for (const uri of new Set(uris)) {
    const hash = createHash("sha256").update(uri).digest();
    for (let i = 0; i < 32; i++) result[i]! ^= hash[i]!;
  }
  return result.toString("hex");
}

/** `scheme://host[:port]` of a URL, the prefix every actor of that server shares (Mastodon's URL_PREFIX_RE). */
export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** The URIs of `accountId`'s followers whose actors live at `origin` (another server). */
async function followerUrisAt(db: Db, accountId: string, origin: string): Promise<string[]> {
  const rows = await db<{ uri: string }[]>`
    select a.uri from follows f join accounts a on a.id = f.account_id
    where f.target_account_id = ${accountId} and a.domain is not null and (starts_with(a.uri, ${`${origin}/`}) or a.uri = ${origin})`;
  return rows.map((r) => r.uri);
}

/**
 * The header a followers-only delivery to `inbox` carries for the local account `accountId` (whose actor is
 * `actorUri`), or undefined when the inbox URL is unusable.
 */
export async function synchronizationHeader(context: Pick<AppContext, "sql">, accountId: string, actorUri: string, inbox: string): Promise<string | undefined> {
  const origin = originOf(inbox);
  if (!origin) return undefined;
  const digest = followersDigest(await followerUrisAt(context.sql, accountId, origin));
  return `collectionId="${followersUrl(actorUri)}", url="${actorUri}/followers_synchronization", digest="${digest}"`;
}

/** The partial collection a signed GET from `signerUri`'s server reads: our followers on that server. */
export async function partialFollowersCollection(context: Pick<AppContext, "sql">, account: { id: string; uri: string }, signerUri: string, url: string): Promise<Record<string, unknown>> {
  const origin = originOf(signerUri);
  const items = origin ? await followerUrisAt(context.sql, account.id, origin) : [];
  return { "@context": "https://www.w3.org/ns/activitystreams", id: url, type: "OrderedCollection", orderedItems: items };
}

/** `key="value", key="value"` (the syntax of signature parameters, which Mastodon re-uses here). */
export function parseSynchronizationHeader(value: string): { collectionId: string; url: string; digest: string } | undefined {
  if (value.length > 4096) return undefined;
  const params = new Map<string, string>();
  for (const match of value.matchAll(/([A-Za-z]+)\s*=\s*"([^"]*)"/g)) params.set(match[1]!, match[2]!);
  const collectionId = params.get("collectionId");
  const url = params.get("url");
  const digest = params.get("digest")?.toLowerCase();
  if (!collectionId || !url || !digest || !/^[0-9a-f]{64}$/.test(digest)) return undefined;
  return { collectionId, url, digest };
}

