/**
 * Remote accounts: actors of other servers stored as rows of `accounts` with their domain.
 *
 * - resolveRemoteAccount("user@domain"): WebFinger on that domain (through the safe client), the actor
 *   document from its `self` link (a signed GET), then an upsert. A stored account younger than a day is
 *   used as is (Mastodon refreshes remote accounts after a day).
 * - fetchRemoteActor(uri): refetch and store an actor by its id (inbox key discovery, Update, refreshes).
 *
 * Rules: an actor's id must be on the host that served it (else it is fetched again from its own id); the
 * stored domain is never empty (the WebFinger subject's domain, or the actor id's host); two `alice` on two
 * hosts stay two rows (the (username, domain) index); profile text is kept as plain text (plain-text.ts).
 */
import { parseEmojiTags, storeRemoteEmojis, type ParsedEmoji } from "../custom-emojis/service";
import type { AppContext } from "../../infra/context";
import { fetchActivityJson, fetchJrd, FetchFailed } from "./fetch";
import { htmlToPlainText } from "./plain-text";
import * as inboundStore from "./handlers/store";
import * as store from "./store";

export const ACTOR_TYPES = ["Person", "Service", "Application", "Group", "Organization"];
export const REFRESH_AFTER_MS = 24 * 3600 * 1000;

export type AccountRow = store.RemoteAccountRow;

export interface ParsedActor {
  id: string;
  username: string;
  host: string;
  inbox: string | null;
  sharedInbox: string | null;
  publicKey: { id: string; owner: string; pem: string } | null;
  columns: Omit<store.RemoteAccountColumns, "domain">;
  /** Emoji tags of the name, bio and fields. */
  emojis: ParsedEmoji[];
  /** The account this one says it moved to (movedTo). */
  movedTo: string | null;
}

const str = (value: unknown, max = 2048): string | undefined => (typeof value === "string" && value.length <= max ? value : undefined);

function httpUrl(value: unknown): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** The first usable URL of a `url` property, which may be a string, a Link, or an array of either. */
function firstUrl(value: unknown): string | undefined {
  for (const item of Array.isArray(value) ? value : [value]) {
    const url = httpUrl(item) ?? (typeof item === "object" && item !== null ? httpUrl((item as Record<string, unknown>).href) : undefined);
    if (url) return url;
  }
  return undefined;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return httpUrl(value);
  if (typeof value === "object" && value !== null) return httpUrl((value as Record<string, unknown>).id);
  return undefined;
}

function publicKeyOf(json: Record<string, unknown>, actorId: string): ParsedActor["publicKey"] {
  const keys = Array.isArray(json.publicKey) ? json.publicKey : [json.publicKey];
  for (const key of keys) {
    if (typeof key !== "object" || key === null) continue;
    const k = key as Record<string, unknown>;
    const id = str(k.id);
    const pem = str(k.publicKeyPem, 16_384);
    const owner = idOf(k.owner) ?? actorId;
    if (id && pem && owner === actorId) return { id, owner, pem };
  }
  return null;
}

/** Validate an actor document; undefined when it is not one we can store. */
export function parseActor(json: Record<string, unknown>): ParsedActor | undefined {
  const types = Array.isArray(json.type) ? json.type : [json.type];
  if (!types.some((t) => typeof t === "string" && ACTOR_TYPES.includes(t))) return undefined;
  const id = httpUrl(json.id);
  const username = str(json.preferredUsername, 255);
  if (!id || !username || !/^[\p{L}\p{N}_.~-]+$/u.test(username)) return undefined;
  const endpoints = typeof json.endpoints === "object" && json.endpoints !== null ? (json.endpoints as Record<string, unknown>) : {};
  const fields = (Array.isArray(json.attachment) ? json.attachment : [])
    .filter((a): a is Record<string, unknown> => typeof a === "object" && a !== null && (a as Record<string, unknown>).type === "PropertyValue")
    .slice(0, 16)
    .map((a) => ({ name: htmlToPlainText(str(a.name, 10_000) ?? "", 255), value: htmlToPlainText(str(a.value, 10_000) ?? "", 2047) }))
    .filter((f) => f.name !== "");
  const publicKey = publicKeyOf(json, id);
  const inbox = httpUrl(json.inbox) ?? null;
  const sharedInbox = httpUrl(endpoints.sharedInbox) ?? null;
  return {
    id,
    username,
    host: new URL(id).host.toLowerCase(),
    inbox,
    sharedInbox,
    publicKey,
    emojis: parseEmojiTags(Array.isArray(json.tag) ? json.tag.slice(0, 500) : [json.tag]),
    movedTo: idOf(json.movedTo) ?? null,
    columns: {
      username,
      uri: id,
      url: firstUrl(json.url) ?? id,
      inbox_url: inbox,
      shared_inbox_url: sharedInbox,
      public_key: publicKey?.pem ?? "",
      display_name: htmlToPlainText(str(json.name, 10_000) ?? "", 100),
      note: htmlToPlainText(str(json.summary, 100_000) ?? "", 5000),
      fields,
      locked: json.manuallyApprovesFollowers === true,
      bot: types.includes("Service") || types.includes("Application"),
      discoverable: typeof json.discoverable === "boolean" ? json.discoverable : null,
      indexable: json.indexable === true,
      memorial: json.memorial === true,
    },
  };
}

/** Fetch an actor by id; the document must live on the host that served it. */
export async function fetchActorDocument(context: AppContext, uri: string): Promise<ParsedActor> {
  let fetched = await fetchActivityJson(context, uri);
  let actor = parseActor(fetched.json);
  if (!actor) throw new FetchFailed(`${uri} is not an actor`, false);
  // Served from somewhere else than its id says (a redirect, a stale URL): ask its own host once.
  if (actor.id !== uri && actor.id !== fetched.url) {
    fetched = await fetchActivityJson(context, actor.id);
    actor = parseActor(fetched.json);
    if (!actor) throw new FetchFailed(`${uri} is not an actor`, false);
  }
  if (new URL(fetched.url).host.toLowerCase() !== actor.host) throw new FetchFailed(`${uri}: the actor's id is not on the host that served it`, false);
  return actor;
}

export async function storeActor(context: AppContext, actor: ParsedActor, domain = actor.host, options: { followMovedTo?: boolean } = {}): Promise<AccountRow> {
  if (!domain) throw new Error("a remote account needs a domain");
  try {
    // The emojis before the row: its trigger picks the profile's emojis from them (migration 0023).
    if (actor.emojis.length > 0) await storeRemoteEmojis(context, domain, actor.emojis);
    const account = await store.upsertRemoteAccount(context.sql, { ...actor.columns, domain });
    if (options.followMovedTo !== false) await recordMovedTo(context, account, actor.movedTo);
    return account;
  } catch (error) {
    // Another actor URI already holds username@domain (an account recreated under a new id): refused rather
    // than merging two identities. TODO(issue 6): Mastodon-like handling of a handle that moved to a new URI.
    if ((error as { code?: string }).code === "23505") throw new FetchFailed(`${actor.username}@${domain} belongs to another actor`, false);
    throw error;
  }
}

/**
 * The actor document's movedTo → accounts.moved_to_account_id (Mastodon's ProcessAccountService: the target
 * is looked up, or fetched without following its own movedTo — no chains). Without movedTo the mark goes.
 * No alias check for the mark itself: it only shows a banner; moving followers (handlers/move.ts) checks.
 */
async function recordMovedTo(context: AppContext, account: AccountRow, movedTo: string | null): Promise<void> {
  const current = (account as { moved_to_account_id?: string | null }).moved_to_account_id ?? null;
  let targetId: string | null = null;
  if (movedTo && movedTo !== account.uri) {
    const [known] = await inboundStore.accountsByUris(context.sql, [movedTo]);
    if (known) targetId = known.id;
    else if (!isLocalDomain(context, new URL(movedTo).host)) {
      try {
        const fetched = await fetchActorDocument(context, movedTo);
        targetId = (await storeActor(context, fetched, fetched.host, { followMovedTo: false })).id;
      } catch (error) {
        if (!(error instanceof FetchFailed)) throw error;
        return; // Unreachable now: keep what we had.
      }
    }
  }
  if (targetId !== current) await store.setMovedTo(context.sql, account.id, targetId);
}

/** Fetch and store (or refresh) an actor by its URI. */
export async function fetchRemoteActor(context: AppContext, uri: string): Promise<AccountRow> {
  const actor = await fetchActorDocument(context, uri);
  const existing = await store.findRemoteByUri(context.sql, actor.id);
  // Keep the handle domain found by WebFinger (split domains) when the account is already known.
  return storeActor(context, actor, existing?.domain ?? actor.host);
}

/** The stored remote account for this URI, fetched when unknown or older than a day. */
export async function ensureRemoteActor(context: AppContext, uri: string): Promise<AccountRow> {
  const existing = await store.findRemoteByUri(context.sql, uri);
  if (existing && Date.now() - existing.updated_at.getTime() < REFRESH_AFTER_MS) return existing;
  return fetchRemoteActor(context, uri);
}

export function isLocalDomain(context: AppContext, domain: string): boolean {
  const d = domain.toLowerCase();
  return d === context.config.localDomain.toLowerCase() || d === context.config.webDomain.toLowerCase();
}

/** `user@domain` (an optional leading @ and acct: scheme) split in two; undefined when malformed. */
export function parseHandle(handle: string): { username: string; domain: string } | undefined {
  const match = /^(?:acct:)?@?([^@\s/?#]+)@([a-z0-9.-]+(?::\d{1,5})?)$/i.exec(handle.trim());
  if (!match) return undefined;
  return { username: match[1]!, domain: match[2]!.toLowerCase() };
}

function selfLink(jrd: Record<string, unknown>): string | undefined {
  const links = Array.isArray(jrd.links) ? jrd.links : [];
  for (const link of links) {
    if (typeof link !== "object" || link === null) continue;
    const l = link as Record<string, unknown>;
    const type = typeof l.type === "string" ? l.type : "";
    if (l.rel === "self" && (type.startsWith("application/activity+json") || type.startsWith("application/ld+json"))) return httpUrl(l.href);
  }
  return undefined;
}

async function webfinger(context: AppContext, username: string, domain: string): Promise<Record<string, unknown>> {
  const resource = encodeURIComponent(`acct:${username}@${domain}`);
  try {
    return await fetchJrd(context, `https://${domain}/.well-known/webfinger?resource=${resource}`);
  } catch (error) {
    // Plain http is only ever possible towards ALLOWED_PRIVATE_ADDRESSES (the safe client refuses it
    // elsewhere): a LAN or test peer without TLS.
    if (!(error instanceof FetchFailed) || context.config.allowedPrivateAddresses.length === 0) throw error;
    return fetchJrd(context, `http://${domain}/.well-known/webfinger?resource=${resource}`);
  }
}

/**
 * Find a remote account by handle, asking its server when we do not know it or our copy is stale.
 * Returns undefined when the handle is local, malformed, or the remote server says no such account.
 */
export async function resolveRemoteAccount(context: AppContext, handle: string): Promise<AccountRow | undefined> {
  const parsed = parseHandle(handle);
  if (!parsed || isLocalDomain(context, parsed.domain)) return undefined;
  const existing = await store.findRemoteByHandle(context.sql, parsed.username, parsed.domain);
  if (existing && Date.now() - existing.updated_at.getTime() < REFRESH_AFTER_MS) return existing;

  const jrd = await webfinger(context, parsed.username, parsed.domain);
  const href = selfLink(jrd);
  if (!href) return undefined;
  const actor = await fetchActorDocument(context, href);
  // The handle's domain is the one asked for, as long as the server answered for it: the subject says which
  // account this is; a subject for another handle is someone else.
  const subject = parseHandle(typeof jrd.subject === "string" ? jrd.subject : "");
  if (subject && (subject.domain !== parsed.domain || subject.username.toLowerCase() !== actor.username.toLowerCase())) return undefined;
  if (actor.username.toLowerCase() !== parsed.username.toLowerCase()) return undefined;
  return storeActor(context, actor, parsed.domain);
}

export const findRemoteByUri = store.findRemoteByUri;
export const deleteRemoteByUri = store.deleteRemoteByUri;
