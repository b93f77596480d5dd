/**
 * Remote statuses: an ActivityStreams object (Note, Question, Article, Page) read into a status row the way
 * Mastodon's ActivityPub::Activity::Create and ActivityPub::Parser::StatusParser do.
 *
 * - parseNote validates and maps one object: sanitised content (sanitize.ts), spoiler_text from `summary`,
 *   sensitive, language (contentMap key or `language`), visibility from to/cc, inReplyTo, Mention and Hashtag
 *   tags, attachments (references only), a Question's poll. Article and Page are shown as Mastodon shows
 *   them: their name, summary and a link, not their body.
 * - storeRemoteNote writes it in one transaction (status, mentions, tags, media rows, poll, counters) and
 *   publishes status.created after the commit, exactly as a local post does, so home feeds, notifications
 *   and streaming need nothing special. The same uri twice stores one row (migration 0012).
 * - fetchRemoteStatus gets an object by URL with a signed GET (reblogs of unknown posts, missing parents,
 *   search with resolve=true) and stores it; its author must live on the object's host.
 *
 * Remote input is hostile: every string is bounded, lists are capped, URLs must be http(s), and an object
 * whose author is not on its host is refused.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { log } from "../../infra/log";
import { parseEmojiTags, storeRemoteEmojis, type ParsedEmoji } from "../custom-emojis/service";
import { publishEvent } from "../events/publish";
import { normalizeTagName } from "../graph/service";
import * as statuses from "../statuses/store";
import type { Visibility } from "../statuses/visibility";
import { fetchActivityJson, FetchFailed, type FetchedObject } from "./fetch";
import * as inbound from "./handlers/store";
import { ensureRemoteActor, isLocalDomain, type AccountRow } from "./remote-accounts";
import { htmlToText, sanitizeRemoteHtml } from "./sanitize";

export const NOTE_TYPES = ["Note", "Question", "Article", "Page"];
/** Mastodon's MAX_CONTENT-ish bound on what we accept at all (a post is 500 characters by default). */
export const MAX_CONTENT_BYTES = 100_000;
export const MAX_SUMMARY = 5_000;
export const MAX_MENTIONS = 100;
export const MAX_TAGS = 50;
/** Mastodon's ACTIVITYPUB_STATUS_ATTACHMENT_MAX. */
export const MAX_ATTACHMENTS = 16;
export const MAX_POLL_OPTIONS = 20;
export const MAX_DESCRIPTION = 1500;
/** How far up a thread we fetch missing parents. */
export const MAX_THREAD_DEPTH = 10;
/** Unknown accounts mentioned in one post that we fetch to record the mention (the rest stay text). */
const MAX_MENTION_FETCHES = 5;

const PUBLIC = new Set(["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"]);

export interface ParsedMedia extends inbound.RemoteMediaInput {}

export interface ParsedPoll {
  options: string[];
  tallies: number[];
  multiple: boolean;
  expiresAt: Date | null;
  votersCount: number;
}

export interface ParsedNote {
  uri: string;
  url: string | null;
  type: string;
  attributedTo: string;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  language: string | null;
  visibility: Visibility;
  inReplyTo: string | null;
  published: Date;
  updated: Date | null;
  mentions: string[];
  tags: { name: string; display: string }[];
  /** Emoji tags (custom emojis of the author's server), checked and bounded by custom-emojis/service.ts. */
  emojis: ParsedEmoji[];
  media: ParsedMedia[];
  poll: ParsedPoll | null;
  /** Everyone addressed (to + cc), for "does this concern a local account?". */
  audience: string[];
}

// ---- small readers for hostile JSON ----

const str = (value: unknown, max: number): string | undefined => (typeof value === "string" && value.length <= max ? value : undefined);

export function httpUrl(value: unknown): string | undefined {
  const text = str(value, 2048);
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function asList(value: unknown, max = 1000): unknown[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).slice(0, max);
}

/** The id of a value that may be a URI or an embedded object. */
export function objectId(value: unknown): string | undefined {
  if (typeof value === "string") return httpUrl(value);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return httpUrl((value as Record<string, unknown>).id);
  return undefined;
}

export function typeOf(value: unknown): string {
  if (typeof value !== "object" || value === null) return "";
  const type = (value as Record<string, unknown>).type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return (type.find((t) => typeof t === "string" && NOTE_TYPES.includes(t)) as string | undefined) ?? (typeof type[0] === "string" ? type[0] : "");
  return "";
}

function audienceOf(value: unknown): string[] {
  return asList(value)
    .map((v) => (typeof v === "string" && PUBLIC.has(v) ? v : objectId(v)))
    .filter((v): v is string => v !== undefined);
}

function date(value: unknown): Date | null {
  const text = str(value, 64);
  if (!text) return null;
  const at = new Date(text);
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1970 || at.getUTCFullYear() > 9999) return null;
  return at;
}

function firstUrl(value: unknown): string | undefined {
  for (const item of asList(value, 10)) {
    const url = httpUrl(item) ?? (typeof item === "object" && item !== null ? httpUrl((item as Record<string, unknown>).href) : undefined);
    if (url) return url;
  }
  return undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A BCP 47 tag cut to its language (what Mastodon's API shows): "en-GB" → "en". */
function languageOf(value: unknown): string | null {
  const text = str(value, 35);
  const match = text ? /^([a-z]{2,3})(?:[-_][a-z0-9-]+)?$/i.exec(text) : null;
  return match ? match[1]!.toLowerCase() : null;
}

/** Mastodon's visibility_from_audience. */
export function visibilityOf(to: string[], cc: string[], authorUri: string): Visibility {
  if (to.some((t) => PUBLIC.has(t))) return "public";
  if (cc.some((c) => PUBLIC.has(c))) return "unlisted";
  // The author's followers collection: Mastodon compares with the stored followers_url; every server we
  // know puts it at <actor>/followers (Mastodon, GoToSocial, Pleroma, Misskey), so that is what we match.
  const followers = `${authorUri}/followers`;
  if (to.includes(followers)) return "private";
  return "direct";
}

function mediaTypeOf(kind: string, mediaType: string | undefined): inbound.RemoteMediaInput["type"] {
  const type = (mediaType ?? "").toLowerCase();
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  if (!type) {
    if (kind === "Image") return "image";
    if (kind === "Video") return "video";
    if (kind === "Audio") return "audio";
  }
  return "unknown";
}

function parseAttachment(item: unknown): ParsedMedia | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const a = item as Record<string, unknown>;
  const kind = typeOf(a);
  if (!["Document", "Image", "Video", "Audio"].includes(kind)) return undefined;
  // `url` may be a string, a Link with its own mediaType, or a list of them.
  let remoteUrl: string | undefined;
  let mediaType = str(a.mediaType, 255);
  for (const candidate of asList(a.url, 10)) {
    if (typeof candidate === "string") remoteUrl = httpUrl(candidate);
    else if (typeof candidate === "object" && candidate !== null) {
      const link = candidate as Record<string, unknown>;
      remoteUrl = httpUrl(link.href);
      mediaType = mediaType ?? str(link.mediaType, 255);
    }
    if (remoteUrl) break;
  }
  if (!remoteUrl) return undefined;
  const description = str(a.name, 100_000) ?? str(a.summary, 100_000);
  const focal = Array.isArray(a.focalPoint) ? a.focalPoint : undefined;
  const focus =
    focal && focal.length === 2 && focal.every((n) => typeof n === "number" && Number.isFinite(n) && n >= -1 && n <= 1)
      ? { x: focal[0] as number, y: focal[1] as number }
      : null;
  const width = typeof a.width === "number" && Number.isInteger(a.width) && a.width > 0 && a.width < 100_000 ? a.width : undefined;
  const height = typeof a.height === "number" && Number.isInteger(a.height) && a.height > 0 && a.height < 100_000 ? a.height : undefined;
  const blurhash = str(a.blurhash, 100);
  return {
    type: mediaTypeOf(kind, mediaType),
    remoteUrl,
    description: description ? htmlToText(description).slice(0, MAX_DESCRIPTION) : null,
    blurhash: blurhash && /^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]+$/.test(blurhash) ? blurhash : null,
    focus,
    meta: width && height ? { original: { width, height, size: `${width}x${height}`, aspect: width / height } } : {},
  };
}

function parsePoll(json: Record<string, unknown>): ParsedPoll | null {
  const multiple = Array.isArray(json.anyOf);
  const items = asList(multiple ? json.anyOf : json.oneOf, MAX_POLL_OPTIONS + 1);
  if (items.length === 0 || items.length > MAX_POLL_OPTIONS) return null;
  const options: string[] = [];
  const tallies: number[] = [];
  for (const item of items) {
    if (typeof item !== "object" || item === null) return null;
    const o = item as Record<string, unknown>;
    const name = str(o.name, 1000);
    if (name === undefined) return null;
    options.push(htmlToText(name).slice(0, 200));
    const replies = o.replies as Record<string, unknown> | undefined;
    const total = typeof replies?.totalItems === "number" && Number.isInteger(replies.totalItems) && replies.totalItems >= 0 ? replies.totalItems : 0;
    tallies.push(Math.min(total, 2 ** 31 - 1));
  }
  const voters = typeof json.votersCount === "number" && Number.isInteger(json.votersCount) && json.votersCount >= 0 ? Math.min(json.votersCount, 2 ** 31 - 1) : 0;
  return { options, tallies, multiple, expiresAt: date(json.endTime) ?? date(json.closed), votersCount: voters };
}

/** Validate and map an object; undefined when it is not a status we can show. */
export function parseNote(json: Record<string, unknown>): ParsedNote | undefined {
  const type = typeOf(json);
  if (!NOTE_TYPES.includes(type)) return undefined;
  const uri = httpUrl(json.id);
  const attributedTo = asList(json.attributedTo, 5)
    .map((a) => objectId(a))
    .find((a) => a !== undefined);
  if (!uri || !attributedTo) return undefined;

  const contentMap = typeof json.contentMap === "object" && json.contentMap !== null && !Array.isArray(json.contentMap) ? (json.contentMap as Record<string, unknown>) : {};
  const mapLanguage = Object.keys(contentMap)[0];
  const rawContent = typeof json.content === "string" ? json.content : mapLanguage !== undefined && typeof contentMap[mapLanguage] === "string" ? (contentMap[mapLanguage] as string) : "";
  if (Buffer.byteLength(rawContent) > MAX_CONTENT_BYTES) return undefined;
  const summary = str(json.summary, MAX_SUMMARY * 4) ?? "";
  const spoilerText = htmlToText(summary).slice(0, MAX_SUMMARY);
  const url = firstUrl(json.url) ?? null;

  let content: string;
  if (type === "Article" || type === "Page") {
    // Mastodon's converted object types: title, summary and a link to the original, not the body.
    const name = htmlToText(str(json.name, 10_000) ?? "").slice(0, 500);
    const link = url ?? uri;
    content = [name && `<p>${escapeHtml(name)}</p>`, spoilerText && `<p>${escapeHtml(spoilerText)}</p>`, `<p><a href="${escapeHtml(link)}" rel="nofollow noopener" target="_blank">${escapeHtml(link)}</a></p>`]
      .filter(Boolean)
      .join("");
  } else {
    content = sanitizeRemoteHtml(rawContent);
  }

  const mentions: string[] = [];
  const tags: { name: string; display: string }[] = [];
  for (const tag of asList(json.tag, 500)) {
    const t = typeOf(tag);
    const value = tag as Record<string, unknown>;
    if (t === "Mention" && mentions.length < MAX_MENTIONS) {
      const href = httpUrl(value.href);
      if (href && !mentions.includes(href)) mentions.push(href);
    } else if (t === "Hashtag" && tags.length < MAX_TAGS) {
      const normal = normalizeTagName(str(value.name, 300) ?? "");
      if (normal && !tags.some((x) => x.name === normal.name)) tags.push({ name: normal.name, display: normal.displayName });
    }
  }

  const media = asList(json.attachment, 100)
    .map(parseAttachment)
    .filter((m): m is ParsedMedia => m !== undefined)
    .slice(0, MAX_ATTACHMENTS);

  const to = audienceOf(json.to);
  const cc = audienceOf(json.cc);
  const published = date(json.published) ?? new Date();
  const hasSpoiler = type !== "Article" && type !== "Page" && spoilerText !== "";
  return {
    uri,
    url,
    type,
    attributedTo,
    content,
    spoilerText: hasSpoiler ? spoilerText : "",
    sensitive: json.sensitive === true || hasSpoiler,
    language: languageOf(mapLanguage) ?? languageOf(json.language),
    visibility: visibilityOf(to, cc, attributedTo),
    inReplyTo: objectId(json.inReplyTo) ?? null,
    // Not in the future: ids are drawn from it, and a post from tomorrow would sit on top of every feed.
    published: published.getTime() > Date.now() ? new Date() : published,
    updated: date(json.updated),
    mentions,
    tags,
    emojis: parseEmojiTags(asList(json.tag, 500)),
    media,
    poll: type === "Question" ? parsePoll(json) : null,
    audience: [...to, ...cc],
  };
}

/** Same host (with port): an actor may only speak for objects on its own server. */
export function sameHost(a: string, b: string): boolean {
  try {
    return new URL(a).host.toLowerCase() === new URL(b).host.toLowerCase();
  } catch {
    return false;
  }
}

// ---- Delete before Create ----

const DELETED_TTL_SECONDS = 24 * 3600;

function deletedKey(context: AppContext, uri: string): string {
  const hash = createHash("sha256").update(uri).digest("hex").slice(0, 32);
  return `${context.config.redis.namespace ? `${context.config.redis.namespace}:` : ""}fed:deleted:${hash}`;
}

/** A Delete arrived for something we do not have (yet): a Create that comes late must not bring it back. */
export async function rememberDeleted(context: AppContext, uri: string): Promise<void> {
  await context.redis.set(deletedKey(context, uri), "1", "EX", DELETED_TTL_SECONDS);
}

async function deletedFirst(context: AppContext, uri: string): Promise<boolean> {
  return (await context.redis.exists(deletedKey(context, uri))) === 1;
}

// ---- storing ----

const countsForAccount = (visibility: Visibility) => visibility !== "direct";
const countsAsReply = (visibility: Visibility) => visibility === "public" || visibility === "unlisted";

/** Mentioned accounts we know, plus a few fetched; local ones are found by their actor URI too. */
export async function mentionedAccountIds(context: AppContext, hrefs: string[]): Promise<string[]> {
  const known = await inbound.accountsByUris(context.sql, hrefs);
  const ids = known.map((a) => a.id);
  const unknown = hrefs.filter((h) => !known.some((a) => a.uri === h) && !isLocalDomain(context, new URL(h).host));
  for (const href of unknown.slice(0, MAX_MENTION_FETCHES)) {
    try {
      ids.push((await ensureRemoteActor(context, href)).id);
    } catch (error) {
      // A mention we cannot resolve stays a link in the text, as in Mastodon.
      log.debug("mentioned actor not resolved", { href, error: (error as Error).message });
    }
  }
  return [...new Set(ids)];
}

export interface StoreOptions {
  /** How deep in a thread this object is (missing parents are fetched up to MAX_THREAD_DEPTH). */
  depth?: number;
}

export interface StoredNote {
  statusId: string;
  created: boolean;
}

/**
 * Store a parsed object by `author` (already checked to be its attributedTo). Returns the status (existing or
 * new); undefined when it was deleted before it arrived.
 */
export async function storeRemoteNote(context: AppContext, author: Pick<AccountRow, "id" | "uri"> & { domain?: string | null }, note: ParsedNote, options: StoreOptions = {}): Promise<StoredNote | undefined> {
  if (await deletedFirst(context, note.uri)) return undefined;
  // The emojis first: the status shows the ones its text names from its author's server (found at render).
  if (note.emojis.length > 0 && author.domain) await storeRemoteEmojis(context, author.domain, note.emojis);
  // No lookup first: the insert itself says whether the uri is new (one round trip less per activity).
  const parent = note.inReplyTo ? await inbound.statusByUri(context.sql, note.inReplyTo) : undefined;
  const liveParent = parent && !parent.deleted_at ? parent : undefined;
  const mentionIds = (await mentionedAccountIds(context, note.mentions)).filter((m) => m !== author.id);
  // A limited post addressed to local accounts it does not tag: they may still see it (silent mentions).
  const audienceIds =
    note.visibility === "private" || note.visibility === "direct"
      ? (await inbound.localAccountsByUris(context.sql, note.audience.slice(0, MAX_MENTIONS))).map((a) => a.id).filter((id) => !mentionIds.includes(id))
      : [];
  const countsParent = liveParent !== undefined && countsAsReply(note.visibility);
  const extras = audienceIds.length > 0 || mentionIds.length > 0 || note.tags.length > 0 || note.media.length > 0 || note.poll !== null || countsParent;

  const write = async (db: Db) => {
    const id = await statuses.insertRemoteStatus(db, {
      accountId: author.id,
      uri: note.uri,
      url: note.url,
      text: "",
      content: note.content,
      spoilerText: note.spoilerText,
      sensitive: note.sensitive,
      visibility: note.visibility,
      language: note.language,
      inReplyToId: liveParent?.id ?? null,
      inReplyToAccountId: liveParent?.account_id ?? null,
      conversationId: liveParent?.conversation_id ?? null,
      publishedAt: note.published,
      editedAt: note.updated && note.updated.getTime() > note.published.getTime() + 1000 ? note.updated : null,
      countForAccount: countsForAccount(note.visibility),
    });
    if (!id) return undefined; // already stored (another delivery of the same object, or a tombstone)
    await statuses.insertMentions(db, id, mentionIds);
    await inbound.insertSilentMentions(db, id, audienceIds);
    await statuses.linkTags(db, id, note.tags);
    if (note.media.length > 0) await inbound.insertRemoteMedia(db, author.id, id, note.media);
    if (note.poll) await statuses.insertRemotePoll(db, { accountId: author.id, statusId: id, ...note.poll });
    if (countsParent) await statuses.bumpRepliesCount(db, liveParent!.id, 1);
    return id;
  };
  // A plain post is one statement (atomic on its own); anything more is one transaction.
  const statusId = extras ? await context.sql.begin((tx) => write(tx)) : await write(context.sql);
  if (!statusId) {
    const winner = await inbound.statusByUri(context.sql, note.uri);
    return winner && !winner.deleted_at ? { statusId: winner.id, created: false } : undefined;
  }
  await publishEvent(context, { type: "status.created", statusId, accountId: author.id });
  if (note.inReplyTo && !parent) {
    const depth = (options.depth ?? 0) + 1;
    if (depth <= MAX_THREAD_DEPTH) {
      // Imported lazily: jobs.ts imports the inbox, which imports the handlers, which import this file.
      const { fetchParentJob } = await import("./jobs");
      await context.queues.enqueue(fetchParentJob, { statusId, parentUri: note.inReplyTo, depth }, { jobId: `parent-${statusId}` });
    }
  }
  return { statusId, created: true };
}

/**
 * The status at `uri`: ours, already stored, or fetched (signed GET) and stored. Undefined when it is not a
 * status we can show. Throws FetchFailed when the origin cannot be reached.
 */
export async function fetchRemoteStatus(context: AppContext, uri: string, options: StoreOptions = {}): Promise<string | undefined> {
  const known = await inbound.statusByUri(context.sql, uri);
  if (known) return known.deleted_at ? undefined : known.id;
  if (isLocalDomain(context, new URL(uri).host)) return undefined;
  return storeFetchedStatus(context, uri, await fetchActivityJson(context, uri), options);
}

/** Store an object already fetched from `uri` (resolve.ts has it in hand); same checks as fetchRemoteStatus. */
export async function storeFetchedStatus(context: AppContext, uri: string, fetched: FetchedObject, options: StoreOptions = {}): Promise<string | undefined> {
  let note = parseNote(fetched.json);
  if (note && note.uri !== uri && note.uri !== fetched.url) {
    // Served under another id (a url, not an id): the object's own id is what we store, fetched from there.
    const again = await inbound.statusByUri(context.sql, note.uri);
    if (again) return again.deleted_at ? undefined : again.id;
    fetched = await fetchActivityJson(context, note.uri);
    note = parseNote(fetched.json);
  }
  if (!note) return undefined;
  if (!sameHost(note.uri, fetched.url) || !sameHost(note.uri, note.attributedTo)) {
    throw new FetchFailed(`${uri}: the object's id or author is not on the host that served it`, false);
  }
  const author = await ensureRemoteActor(context, note.attributedTo);
  return (await storeRemoteNote(context, author, note, options))?.statusId;
}
