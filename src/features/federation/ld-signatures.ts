/**
 * Linked Data Signatures (RsaSignature2017), as Mastodon makes and checks them
 * (ActivityPub::LinkedDataSignature; docs: spec/security.md "Linked Data Signatures"). They sign the JSON-LD
 * document itself, so an activity stays the author's word when another server passes it on: a relay, or a
 * server forwarding a reply to its followers.
 *
 *   options  = the signature object without type, id and signatureValue, with @context identity/v1
 *   message  = hex(sha256(URDNA2015(options))) + hex(sha256(URDNA2015(document without `signature`)))
 *   value    = base64(RSA-SHA256(message)) with the creator's key (`creator` is the key id)
 *
 * Canonicalisation is jsonld's (RDFC-1.0, the standardised URDNA2015; same output). It never touches the
 * network: only the contexts in ./contexts are served (activitystreams, security/v1, identity/v1, Mastodon's
 * namespace); any other context URL fails the check, closed. jsonld's safe mode is on too: a term no
 * context defines is an error instead of being dropped silently — so every key of a verified document is
 * covered by the signature, and nobody can slip an unsigned property into someone else's signed post.
 * Hostile documents: over MAX_LD_BYTES, MAX_LD_NODES values or MAX_LD_DEPTH levels, or using @graph /
 * @included / @reverse (as Mastodon), are refused before any work; the canonicaliser's deep-comparison budget stays at its default (work factor 1, which defeats
 * "poison" blank-node graphs) and it is aborted after CANONIZE_TIMEOUT_MS.
 *
 * When we sign, the security context is added to the document's @context first (Mastodon adds it after
 * hashing; adding it before keeps the hash the same for verifiers that hash either way, since it defines no
 * term our documents use).
 */
import { createSign, createVerify } from "node:crypto";
import jsonld, { type RemoteDocument } from "jsonld";
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { remoteKey } from "./keys";
import { privateKeyOf } from "./outbound-store";
import activitystreams from "./jsonld-contexts/activitystreams.json" with { type: "json" };
import identityV1 from "./jsonld-contexts/identity-v1.json" with { type: "json" };
import joinmastodon from "./jsonld-contexts/joinmastodon.json" with { type: "json" };
import securityV1 from "./jsonld-contexts/security-v1.json" with { type: "json" };

export const SECURITY_CONTEXT = "https://w3id.org/security/v1";
const IDENTITY_CONTEXT = "https://w3id.org/identity/v1";
export const MAX_LD_BYTES = 512 * 1024;
export const MAX_LD_NODES = 10_000;
export const MAX_LD_DEPTH = 32;
export const CANONIZE_TIMEOUT_MS = 2_000;

const CONTEXTS = new Map<string, unknown>([
  ["https://www.w3.org/ns/activitystreams", activitystreams],
  ["http://www.w3.org/ns/activitystreams", activitystreams],
  ["https://www.w3.org/ns/activitystreams.jsonld", activitystreams],
  [SECURITY_CONTEXT, securityV1],
  ["http://w3id.org/security/v1", securityV1],
  [IDENTITY_CONTEXT, identityV1],
  ["http://w3id.org/identity/v1", identityV1],
  ["http://joinmastodon.org/ns", joinmastodon],
  ["https://joinmastodon.org/ns", joinmastodon],
]);

export class LdCanonicalisationError extends Error {}

/** Serves the preloaded contexts; anything else is refused (no fetch, ever). */
async function offlineLoader(url: string): Promise<RemoteDocument> {
  const document = CONTEXTS.get(url);
  if (!document) throw new LdCanonicalisationError(`context not available offline: ${url.slice(0, 200)}`);
  return { contextUrl: null, documentUrl: url, document };
}

/** Keywords no activity needs, which Mastodon refuses in signed documents too (they hide nodes from a reader). */
const REFUSED_KEYWORDS = new Set(["@graph", "@included", "@reverse"]);

/**
 * Refuses documents too big or too deep to canonicalise cheaply (walks at most MAX_LD_NODES values), and
 * documents using REFUSED_KEYWORDS.
 */
function checkBounds(document: unknown): void {
  let nodes = 0;
  const walk = (value: unknown, depth: number): void => {
    if (++nodes > MAX_LD_NODES) throw new LdCanonicalisationError("document has too many values");
    if (depth > MAX_LD_DEPTH) throw new LdCanonicalisationError("document is nested too deeply");
    if (Array.isArray(value)) for (const item of value) walk(item, depth + 1);
    else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (REFUSED_KEYWORDS.has(key)) throw new LdCanonicalisationError(`unsupported JSON-LD keyword ${key}`);
        walk(item, depth + 1);
      }
    }
  };
  walk(document, 0);
  if (JSON.stringify(document).length > MAX_LD_BYTES) throw new LdCanonicalisationError("document is too large");
}

/** hex(SHA-256(canonical N-Quads of `document`)). Throws LdCanonicalisationError when it cannot be done safely. */
export async function ldHash(document: unknown): Promise<string> {
  checkBounds(document);
  let canonical: string;
  try {
    canonical = await jsonld.canonize(document, {
      algorithm: "RDFC-1.0",
      format: "application/n-quads",
      documentLoader: offlineLoader,
      safe: true,
      canonizeOptions: { signal: AbortSignal.timeout(CANONIZE_TIMEOUT_MS) },
    });
  } catch (error) {
    if (error instanceof LdCanonicalisationError) throw error;
    const cause = (error as { details?: { cause?: unknown } }).details?.cause;
    const message = cause instanceof Error ? cause.message : (error as Error).message;
    throw new LdCanonicalisationError(`cannot canonicalise: ${String(message).slice(0, 300)}`);
  }
  return new Bun.CryptoHasher("sha256").update(canonical).digest("hex");
}

const signatureSchema = v.looseObject({
  type: v.literal("RsaSignature2017"),
  creator: v.pipe(v.string(), v.maxLength(2048), v.regex(/^https?:\/\//)),
  signatureValue: v.pipe(v.string(), v.maxLength(4096), v.regex(/^[A-Za-z0-9+/=\s]+$/)),
});

function withoutSignature(document: Record<string, unknown>): Record<string, unknown> {
  const { signature: _signature, ...rest } = document;
  return rest;
}

async function message(document: Record<string, unknown>, signature: Record<string, unknown>): Promise<string> {
  const { type: _type, id: _id, signatureValue: _value, ...options } = signature;
  const [optionsHash, documentHash] = await Promise.all([ldHash({ ...options, "@context": IDENTITY_CONTEXT }), ldHash(withoutSignature(document))]);
  return optionsHash + documentHash;
}

/** The document's @context with the security context added once (Mastodon's sign!). */
function withSecurityContext(context: unknown): unknown {
  const list = context === undefined ? [] : Array.isArray(context) ? [...context] : [context];
  if (!list.includes(SECURITY_CONTEXT)) list.push(SECURITY_CONTEXT);
  return list.length === 1 ? list[0] : list;
}

export interface LdSigner {
  /** The key id, `<actor>#main-key`. */
  keyId: string;
  privateKeyPem: string;
}

/** `document` signed by `signer`: a copy with the security context and a `signature` (any old one replaced). */
export async function signLdDocument(document: Record<string, unknown>, signer: LdSigner, created = new Date()): Promise<Record<string, unknown>> {
  const unsigned = { ...withoutSignature(document), "@context": withSecurityContext(document["@context"]) };
  const options = { type: "RsaSignature2017", creator: signer.keyId, created: created.toISOString().replace(/\.\d{3}Z$/, "Z") };
  const signatureValue = createSign("RSA-SHA256").update(await message(unsigned, options)).sign(signer.privateKeyPem, "base64");
  return { ...unsigned, signature: { ...options, signatureValue } };
}

export type LdVerification =
  /** The signature is good; `owner` is the actor that owns the creator key. */
  | { status: "verified"; owner: string; keyId: string }
  /** No RsaSignature2017 signature at all. */
  | { status: "missing" }
  /** A signature we cannot check: unknown context, too big, key unavailable. Says nothing either way. */
  | { status: "unverifiable"; reason: string }
  /** A signature that is checked and wrong (tampered document or options, or another key). */
  | { status: "invalid"; reason: string };

export interface LdKey {
  owner: string;
  pem: string;
}

/** Looks a key up; `refresh` asks past any cache (a key may have rotated). Undefined when unavailable. */
export type LdKeyLookup = (keyId: string, refresh: boolean) => Promise<LdKey | undefined>;

/** Checks `document`'s signature (pure: the key comes from `lookup`). Never throws for bad input. */
export async function verifyLdSignature(document: Record<string, unknown>, lookup: LdKeyLookup): Promise<LdVerification> {
  if (typeof document.signature !== "object" || document.signature === null || Array.isArray(document.signature)) return { status: "missing" };
  const parsed = v.safeParse(signatureSchema, document.signature);
  if (!parsed.success) {
    return (document.signature as Record<string, unknown>).type === "RsaSignature2017"
      ? { status: "invalid", reason: "malformed RsaSignature2017" }
      : { status: "unverifiable", reason: "unsupported signature type" };
  }
  const signature = parsed.output as Record<string, unknown> & v.InferOutput<typeof signatureSchema>;
  let signed: string;
  try {
    signed = await message(document, signature);
  } catch (error) {
    if (error instanceof LdCanonicalisationError) return { status: "unverifiable", reason: error.message };
    throw error;
  }
  const check = (pem: string): boolean => {
    try {
      return createVerify("RSA-SHA256").update(signed).verify(pem, signature.signatureValue.replace(/\s+/g, ""), "base64");
    } catch {
      return false;
    }
  };
  for (const refresh of [false, true]) {
    const key = await lookup(signature.creator, refresh).catch((error: unknown) => {
      log.debug("LD signature key unavailable", { keyId: signature.creator, error: (error as Error).message });
      return undefined;
    });
    // Not found at all: nothing known. Not found again after the cached key said no: still a no.
    if (!key) return refresh ? { status: "invalid", reason: "signature does not match the cached key" } : { status: "unverifiable", reason: "key unavailable" };
    if (check(key.pem)) return { status: "verified", owner: key.owner, keyId: signature.creator };
  }
  return { status: "invalid", reason: "signature does not match" };
}

/**
 * An activity passed on by someone other than its actor (relay, forwarding server): is it the actor's own
 * word? "verified" only when the signature is good AND its key belongs to the activity's actor; a good
 * signature by anyone else counts as invalid (not the actor's); a key on another host than the actor's is
 * not even fetched (unverifiable). Keys come from the usual cache
 * (features/federation/keys.ts), fetched once more when the cached one fails.
 */
export async function verifyForwardedActivity(context: AppContext, activity: Record<string, unknown>): Promise<LdVerification> {
  const actor = typeof activity.actor === "string" ? activity.actor : (activity.actor as { id?: unknown } | null)?.id;
  if (typeof actor !== "string" || !URL.canParse(actor)) return { status: "unverifiable", reason: "no actor" };
  const actorHost = new URL(actor).host.toLowerCase();
  const result = await verifyLdSignature(activity, async (keyId, refresh) => {
    // Only the actor's own server can hold the actor's key: no fetch goes anywhere else.
    if (new URL(keyId).host.toLowerCase() !== actorHost) return undefined;
    const key = await remoteKey(context, keyId, { refresh });
    return { owner: key.owner, pem: key.pem };
  });
  if (result.status === "verified" && result.owner !== actor) return { status: "invalid", reason: "signed by another actor than the activity's" };
  return result;
}

/**
 * Outbound: what anyone may pass on is signed, as Mastodon does (Status#sign? = distributable?): the Create,
 * Update, Delete, Announce and Undo(Announce) of a public or unlisted post, by its local author — so relays
 * and forwarding servers can hand it on as the author's word. Not in authorized-fetch mode (Mastodon signs
 * nothing then: a signed copy would travel past the fetch checks). Anything else is returned unchanged.
 */
export async function signIfDistributable(
  context: AppContext,
  accountId: string,
  visibility: string,
  activity: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (context.config.authorizedFetch || (visibility !== "public" && visibility !== "unlisted")) return activity;
  const key = await privateKeyOf(context.sql, accountId);
  if (!key) return activity;
  try {
    return await signLdDocument(activity, { keyId: `${key.uri}#main-key`, privateKeyPem: key.private_key });
  } catch (error) {
    // A term our context does not define (safe mode) must not stop the delivery: it goes unsigned, as before.
    if (!(error instanceof LdCanonicalisationError)) throw error;
    log.warn("activity not LD-signed: it does not canonicalise", { id: activity.id, error: error.message });
    return activity;
  }
}
