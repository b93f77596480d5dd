/**
 * Link preview cards without the stampede. A popular post makes every server that receives it fetch the
 * linked page at once; here, for each post:
 *  - the card is keyed by the normalised URL and reused while fresh (Cache-Control max-age, bounded), so
 *    later posts linking the same URL fetch nothing;
 *  - the fetch waits a random delay (PREVIEW_CARD_MAX_DELAY) and runs on the `pull` queue;
 *  - ONE fetch per URL across the instance: a Redis lock; the other posts' jobs wait and then reuse the card;
 *  - a failed fetch is remembered for an hour, so 50 posts linking a dead page do not fetch it 50 times;
 *  - fetches per linked domain are rate-limited;
 *  - the card data the origin server put in a federated post is used as is (attachFederatedCard).
 * Pages are read through the SSRF-safe client (size, time and redirects bounded; private addresses refused).
 * The image is kept as a remote URL, never downloaded here.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import type { Db } from "../../infra/db";
import type { AppContext } from "../../infra/context";
import { fetchSettings, safeFetch, SafeFetchError } from "../../infra/http/safe-fetch";
import { log } from "../../infra/log";
import { streamStatusUpdated } from "../streaming/service";
import { applyOEmbed, cardTtlSeconds, firstCardLink, decodePage, httpUrl, LIMITS, normaliseUrl, parsePage, type CardData } from "./parse";
import * as store from "./store";

export type PreviewCard = store.CardRow;

/** Most fetches one linked domain gets from this instance per minute. */
export const DOMAIN_FETCHES_PER_MINUTE = 30;
const PAGE_MAX_BYTES = 1024 * 1024;
const OEMBED_MAX_BYTES = 64 * 1024;
const LOCK_MS = 60_000;
const FAILURE_MEMORY_SECONDS = 3600;

/** The cards of many statuses in one query, for rendering Status.card. */
export async function cardsForStatuses(sql: Db, statusIds: string[]): Promise<Map<string, PreviewCard>> {
  const rows = await store.cardsOfStatuses(sql, [...new Set(statusIds)]);
  return new Map(rows.map(({ status_id, ...card }) => [status_id, card]));
}

function keyHash(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}

function redisKey(context: AppContext, kind: string, part: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}woolly:cards:${kind}:${part}`;
}

/** What the post-side step decided: nothing to do, done from a stored card, or a fetch to schedule. */
export type CardPlan = { action: "none" } | { action: "linked" } | { action: "fetch"; url: string; delayMs: number };

/**
 * Decide a status's card right after it was posted or edited: no eligible link → none (an edit that removed
 * the link drops the card); a fresh stored card → linked at once; a URL that failed recently → none; else a
 * fetch after a random delay.
 */
export async function planCard(context: AppContext, statusId: string): Promise<CardPlan> {
  const status = await store.statusForCard(context.sql, statusId);
  if (!status || status.reblog_of_id) return { action: "none" };
  // The origin server's own card (attachFederatedCard) stands: no fetch on the linked site at all.
  const [current] = await store.cardsOfStatuses(context.sql, [statusId]);
  if (current?.source === "federated") return { action: "linked" };
  const link = firstCardLink(status.content, context.config.baseUrl);
  const key = link && normaliseUrl(link);
  if (!link || !key) {
    if (await store.unlinkStatus(context.sql, statusId)) await announce(context, statusId);
    return { action: "none" };
  }
  const card = await store.findCardByUrl(context.sql, key);
  if (card && card.expires_at > new Date()) {
    if (await store.linkStatus(context.sql, statusId, card.id, link)) await announce(context, statusId);
    return { action: "linked" };
  }
  // An edit to another link: the old card goes now, not when (or if) the new one is fetched.
  if (current && current.url !== key && (await store.unlinkStatus(context.sql, statusId))) await announce(context, statusId);
  if (await context.redis.exists(redisKey(context, "failed", keyHash(key)))) return { action: "none" };
  const maxMs = context.config.previewCards.maxDelaySeconds * 1000;
  return { action: "fetch", url: link, delayMs: Math.floor(Math.random() * (maxMs + 1)) };
}

export type FetchOutcome = "linked" | "no_card" | { retryInMs: number };

/**
 * Fetch (or reuse) the card for one status's link. Returns `{ retryInMs }` when another job holds the URL's
 * lock or the domain is over its rate: the caller waits and calls again, and then usually finds the card.
 */
export async function fetchCardFor(context: AppContext, statusId: string, link: string): Promise<FetchOutcome> {
  const key = normaliseUrl(link);
  if (!key) return "no_card";
  const fresh = async () => {
    const card = await store.findCardByUrl(context.sql, key);
    return card && card.expires_at > new Date() ? card : undefined;
  };
  const reuse = async (cardId: string): Promise<FetchOutcome> => {
    if (await store.linkStatus(context.sql, statusId, cardId, link)) await announce(context, statusId);
    return "linked";
  };
  const stored = await fresh();
  if (stored) return reuse(stored.id);
  const hash = keyHash(key);
  const failedKey = redisKey(context, "failed", hash);
  if (await context.redis.exists(failedKey)) return "no_card";

  const lockKey = redisKey(context, "lock", hash);
  const lockToken = crypto.randomUUID();
  if ((await context.redis.set(lockKey, lockToken, "PX", LOCK_MS, "NX")) !== "OK") return { retryInMs: 1000 + Math.floor(Math.random() * 1000) };
  try {
    // Someone may have stored it between our look and our lock.
    const raced = await fresh();
    if (raced) return reuse(raced.id);
    const host = new URL(key).host.toLowerCase();
    const minute = Math.floor(Date.now() / 60_000);
    const rateKey = redisKey(context, "domain", `${host}:${minute}`);
    const [[, count]] = (await context.redis.multi().incr(rateKey).expire(rateKey, 120).exec()) as [[unknown, number], unknown];
    if (count > DOMAIN_FETCHES_PER_MINUTE) return { retryInMs: (minute + 1) * 60_000 - Date.now() + Math.floor(Math.random() * 5000) };

    const fetched = await fetchCardData(context, key);
    if (!fetched) {
      await context.redis.set(failedKey, "1", "EX", FAILURE_MEMORY_SECONDS);
      return "no_card";
    }
    const cardId = await store.upsertCard(context.sql, key, fetched.card, "fetched", fetched.ttlSeconds);
    return reuse(cardId);
  } finally {
    // Release only our own lock (it may have expired and been taken by someone else meanwhile).
    await context.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, lockKey, lockToken);
  }
}

/** GET the page (and its oEmbed JSON, when it points at one); undefined when it yields no card. */
async function fetchCardData(context: AppContext, url: string): Promise<{ card: CardData; ttlSeconds: number } | undefined> {
  const settings = fetchSettings(context.config);
  try {
    const page = await safeFetch(url, settings, {
      headers: { accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1", "accept-language": "en;q=0.5" },
      maxBytes: PAGE_MAX_BYTES,
      headersTimeoutMs: 5_000,
      timeoutMs: 10_000,
      maxRedirects: 3,
    });
    const contentType = page.headers.get("content-type");
    if (page.status !== 200 || !/^\s*(text\/html|application\/xhtml\+xml)/i.test(contentType ?? "")) return undefined;
    const facts = parsePage(decodePage(page.body, contentType), page.url);
    if (!facts) return undefined;
    let card = facts.card;
    if (facts.oembedUrl) {
      try {
        const oembed = await safeFetch(facts.oembedUrl, settings, { headers: { accept: "application/json" }, maxBytes: OEMBED_MAX_BYTES, timeoutMs: 5_000, maxRedirects: 2 });
        if (oembed.status === 200) card = applyOEmbed(card, oembed.json(), page.url);
      } catch (error) {
        // The page's own data still makes a card.
        log.debug("oEmbed fetch failed", { url: facts.oembedUrl, error: (error as Error).message });
      }
    }
    return { card, ttlSeconds: cardTtlSeconds(page.headers.get("cache-control")) };
  } catch (error) {
    if (error instanceof SafeFetchError || error instanceof TypeError) {
      log.debug("preview card fetch failed", { url, reason: (error as SafeFetchError).reason ?? "decode", error: (error as Error).message });
      return undefined;
    }
    throw error;
  }
}

/**
 * Live clients hear that the status changed (Mastodon's `status.update` stream event). Deliberately NOT the
 * `status.updated` domain event: that one means the author edited the post, which notifies boosters and
 * federates an Update — a card appearing is neither.
 */
async function announce(context: AppContext, statusId: string): Promise<void> {
  await streamStatusUpdated(context, statusId, `card-${statusId}-${Date.now()}`);
}

/**
 * The card data a remote server put in its post (a `preview` Link / Page object, as some servers send), for
 * the federation inbox to call: stored as the status's card without fetching the page, unless a fetched card
 * for that URL is already fresh. Hostile input: every field validated and bounded here.
 */
const federatedCardSchema = v.object({
  url: v.pipe(v.string(), v.maxLength(LIMITS.url)),
  title: v.pipe(v.string(), v.minLength(1), v.transform((s) => s.slice(0, 5000))),
  description: v.optional(v.pipe(v.string(), v.transform((s) => s.slice(0, 5000))), ""),
  imageUrl: v.optional(v.nullable(v.string())),
  imageDescription: v.optional(v.string(), ""),
  providerName: v.optional(v.string(), ""),
  authorName: v.optional(v.string(), ""),
  width: v.optional(v.number(), 0),
  height: v.optional(v.number(), 0),
});
export type FederatedCard = v.InferInput<typeof federatedCardSchema>;

export async function attachFederatedCard(context: AppContext, statusId: string, input: FederatedCard): Promise<boolean> {
  const parsed = v.safeParse(federatedCardSchema, input);
  if (!parsed.success) return false;
  const data = parsed.output;
  const url = httpUrl(data.url);
  const key = url && normaliseUrl(url);
  if (!url || !key) return false;
  const existing = await store.findCardByUrl(context.sql, key);
  let cardId = existing && existing.expires_at > new Date() ? existing.id : undefined;
  if (!cardId) {
    const card: CardData = {
      url,
      title: data.title.replace(/\s+/g, " ").trim().slice(0, LIMITS.title),
      description: data.description.replace(/\s+/g, " ").trim().slice(0, LIMITS.description),
      type: "link",
      authorName: data.authorName.slice(0, LIMITS.name),
      authorUrl: "",
      providerName: data.providerName.slice(0, LIMITS.name),
      providerUrl: "",
      html: "",
      width: Number.isInteger(data.width) && data.width > 0 && data.width < 100_000 ? data.width : 0,
      height: Number.isInteger(data.height) && data.height > 0 && data.height < 100_000 ? data.height : 0,
      imageUrl: httpUrl(data.imageUrl ?? undefined) ?? null,
      imageDescription: data.imageDescription.slice(0, LIMITS.description),
      embedUrl: "",
      language: null,
      publishedAt: null,
    };
    if (!card.title) return false;
    // The origin's copy is trusted for a day only: the page itself stays the authority.
    cardId = await store.upsertCard(context.sql, key, card, "federated", 24 * 3600);
  }
  if (await store.linkStatus(context.sql, statusId, cardId, url, true)) await announce(context, statusId);
  return true;
}

/** For the federation inbox: an Update of a remote post that no longer carries a preview drops its card. */
export async function detachCard(context: AppContext, statusId: string): Promise<void> {
  if (await store.unlinkStatus(context.sql, statusId, true)) await announce(context, statusId);
}
