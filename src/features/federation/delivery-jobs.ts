/**
 * activitypub.deliver, on `push`: POST one activity to one inbox, signed by the local actor that did it
 * (Mastodon's ActivityPub::DeliveryWorker).
 *
 * - Signature: draft-cavage (`(request-target) host date digest content-type`, rsa-sha256, keyId
 *   `<actor>#main-key`, Digest SHA-256). A peer that answers 400 or 401 gets the same activity once more
 *   signed with RFC 9421 (some servers only speak the newer scheme).
 * - Timeouts: the safe client's header deadline of 15 s (connect 5 s + read 10 s), 20 s in all; redirects
 *   are not followed (a POST is not replayed elsewhere).
 * - Outcome: 2xx, or a 4xx that will never change (anything but 401, 408, 429) is done — "performed" in
 *   Mastodon's words — and clears the host's failure record. Anything else counts a failure for the host
 *   (failure-tracker.ts) and schedules the next attempt after Mastodon's Sidekiq backoff,
 *   count⁴ + 15 s + rand(10)·(count + 1) s, 16 retries after the first try (about two days). BullMQ only knows
 *   exponential backoff, so each attempt is its own job with a delay; the last one that fails lands in the
 *   failed set with its reason.
 * - A host marked unavailable is skipped without a connection; one with failures on record is queued behind
 *   the healthy ones (a lower BullMQ priority), so dead servers cannot clog the queue for live ones.
 */
import { createHash } from "node:crypto";
import { UnrecoverableError } from "bullmq";
import * as v from "valibot";
import { SYNC_HEADER, synchronizationHeader } from "./followers-digest";
import type { AppContext } from "../../infra/context";
import { safeFetch, SafeFetchError } from "../../infra/http/safe-fetch";
import { signCavage, signRfc9421 } from "../../infra/http/signatures";
import { log } from "../../infra/log";
import { defineJob, type JobDefinition } from "../../infra/queues/registry";
import { federationFetchSettings } from "./fetch";
import { availableInboxes, failingHosts, hostOf, isAvailable, trackFailure, trackSuccess } from "./failure-tracker";
import { privateKeyOf } from "./outbound-store";

/** The first try and Mastodon's 16 retries (Sidekiq `retry: 16`): about two days from first to last. */
export const MAX_ATTEMPTS = 17;
export const MAX_ACTIVITY_BYTES = 512 * 1024;
const HEADERS_TIMEOUT_MS = 15_000;
const TOTAL_TIMEOUT_MS = 20_000;
/** The peer's answer body is not used: a small cap keeps a chatty peer from costing memory. */
const MAX_ANSWER_BYTES = 64 * 1024;
const KEY_CACHE_MS = 60_000;
/** Tries for a pre-signed delivery: the retry delays (15 s, 16 s, 31 s) stay well inside the signature's hour. */
export const PRESIGNED_ATTEMPTS = 4;

export const deliverySchema = v.object({
  inbox: v.pipe(v.string(), v.url(), v.maxLength(2048)),
  /** The local account whose key signs (the activity's actor). */
  accountId: v.pipe(v.string(), v.regex(/^[0-9]{1,19}$/)),
  /** The activity, serialised once at fan-out so every inbox gets the same bytes. */
  body: v.pipe(v.string(), v.maxLength(MAX_ACTIVITY_BYTES)),
  attempt: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_ATTEMPTS)),
  /**
   * Headers signed at enqueue time (date, digest, signature), for an account about to be deleted: its key is
   * gone by the time the job runs, and no private key is ever put in a job. Receivers accept a signature
   * for about an hour, so such a delivery gets PRESIGNED_ATTEMPTS tries within minutes, not two days.
   */
  presigned: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z-]{1,32}$/)), v.pipe(v.string(), v.maxLength(4096)))),
  /** A followers-only activity: carry the followers digest for the receiving server (followers-digest.ts). */
  syncFollowers: v.optional(v.boolean()),
});
export type Delivery = v.InferOutput<typeof deliverySchema>;

/** Mastodon's (Sidekiq's) retry delay after the attempt `attempt` (1-based) failed, in milliseconds. */
export function retryDelayMs(attempt: number, random = Math.random): number {
  const count = attempt - 1;
  return (count ** 4 + 15 + Math.floor(random() * 10) * (count + 1)) * 1000;
}

/** A stable job id per (activity, inbox, attempt): a repeated fan-out or retry does not deliver twice. */
export function deliveryJobId(body: string, inbox: string, attempt: number): string {
  const id = (() => {
    try {
      const parsed = JSON.parse(body) as { id?: unknown };
      return typeof parsed.id === "string" ? parsed.id : body;
    } catch {
      return body;
    }
  })();
  return `deliver-${createHash("sha256").update(`${id}\n${inbox}`).digest("hex").slice(0, 40)}-${attempt}`;
}

// Signing keys change only when an account is made or deleted; reading one per delivery would cost a query
// per inbox in a fan-out of thousands.
const keyCache = new Map<string, { at: number; value: Promise<{ uri: string; private_key: string } | undefined> }>();

function signingKey(context: AppContext, accountId: string) {
  const now = Date.now();
  const hit = keyCache.get(accountId);
  if (hit && now - hit.at < KEY_CACHE_MS) return hit.value;
  const value = privateKeyOf(context.sql, accountId);
  keyCache.set(accountId, { at: now, value });
  if (keyCache.size > 1000) keyCache.delete(keyCache.keys().next().value!);
  value.catch(() => keyCache.delete(accountId));
  return value;
}

type Outcome = { kind: "done"; status: number } | { kind: "retry"; reason: string };

/** 401, 408 and 429 may change; any other 4xx will not (Mastodon's response_error_unsalvageable?). */
function unsalvageable(status: number): boolean {
  return status >= 400 && status < 500 && ![401, 408, 429].includes(status);
}

async function post(context: AppContext, delivery: Delivery, key: { uri: string; private_key: string }, scheme: "cavage" | "rfc9421"): Promise<number> {
  const settings = federationFetchSettings(context);
  const keyId = `${key.uri}#main-key`;
  const sync = delivery.syncFollowers ? await synchronizationHeader(context, delivery.accountId, key.uri, delivery.inbox) : undefined;
  const response = await safeFetch(delivery.inbox, settings, {
    method: "POST",
    body: delivery.body,
    headers: { "content-type": "application/activity+json", ...(sync && { [SYNC_HEADER]: sync }) },
    maxRedirects: 0,
    maxBytes: MAX_ANSWER_BYTES,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    timeoutMs: TOTAL_TIMEOUT_MS,
    sign: ({ method, url, headers, body }) => {
      const options = { method: method as "POST", url, headers, body, keyId, privateKeyPem: key.private_key };
      return scheme === "cavage" ? signCavage(options) : signRfc9421(options);
    },
  });
  return response.status;
}

async function postPresigned(context: AppContext, delivery: Delivery, headers: Record<string, string>): Promise<number> {
  const settings = federationFetchSettings(context);
  const response = await safeFetch(delivery.inbox, settings, {
    method: "POST",
    body: delivery.body,
    headers: { "content-type": "application/activity+json", ...headers },
    maxRedirects: 0,
    maxBytes: MAX_ANSWER_BYTES,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    timeoutMs: TOTAL_TIMEOUT_MS,
  });
  return response.status;
}

/** Sign a delivery now, for sending later without the key (see `presigned`). */
export function presign(inbox: string, body: string, key: { uri: string; private_key: string }): Record<string, string> {
  const url = new URL(inbox);
  return signCavage({ method: "POST", url, headers: { "content-type": "application/activity+json", host: url.host }, body, keyId: `${key.uri}#main-key`, privateKeyPem: key.private_key });
}

export async function attemptDelivery(context: AppContext, delivery: Delivery): Promise<Outcome> {
  if (delivery.presigned) {
    try {
      const status = await postPresigned(context, delivery, delivery.presigned);
      if ((status >= 200 && status < 300) || unsalvageable(status)) return { kind: "done", status };
      return { kind: "retry", reason: `${delivery.inbox} answered ${status}` };
    } catch (error) {
      if (error instanceof SafeFetchError) return { kind: "retry", reason: `${delivery.inbox}: ${error.reason}: ${error.message}` };
      throw error;
    }
  }
  const key = await signingKey(context, delivery.accountId);
  // The account is gone (or is not ours): nothing can sign, nothing to retry.
  if (!key) return { kind: "done", status: 0 };
  try {
    let status = await post(context, delivery, key, "cavage");
    if (status === 400 || status === 401) status = await post(context, delivery, key, "rfc9421");
    if ((status >= 200 && status < 300) || unsalvageable(status)) return { kind: "done", status };
    return { kind: "retry", reason: `${delivery.inbox} answered ${status}` };
  } catch (error) {
    if (error instanceof SafeFetchError) {
      // A suspended domain or a forbidden address will not change by waiting.
      if (error.reason === "blocked_domain" || error.reason === "forbidden_address" || error.reason === "forbidden_scheme" || error.reason === "bad_url")
        return { kind: "done", status: 0 };
      // The server took the POST and answered at length: delivered, whatever it had to say.
      if (error.reason === "too_large") return { kind: "done", status: 200 };
      return { kind: "retry", reason: `${delivery.inbox}: ${error.reason}: ${error.message}` };
    }
    throw error;
  }
}

export const deliverJob: JobDefinition<typeof deliverySchema> = defineJob({
  name: "activitypub.deliver",
  queue: "push",
  schema: deliverySchema,
  // One try per job: the retries are new jobs with Mastodon's delays (see above).
  attempts: 1,
  backoffMs: 0,
  async handler(delivery, context) {
    if (!(await isAvailable(context, delivery.inbox))) {
      log.debug("delivery skipped: host unavailable", { inbox: delivery.inbox });
      return;
    }
    const outcome = await attemptDelivery(context, delivery);
    if (outcome.kind === "done") {
      // Only an answer from the server says it is alive (not a refusal on our side: no key, blocked domain).
      if (outcome.status > 0) await trackSuccess(context, delivery.inbox);
      if (outcome.status >= 400) log.info("delivery refused for good", { inbox: delivery.inbox, status: outcome.status });
      return;
    }
    const nowUnavailable = await trackFailure(context, delivery.inbox);
    if (nowUnavailable) {
      log.warn("delivery host marked unavailable", { inbox: delivery.inbox });
      return;
    }
    const attempts = delivery.presigned ? PRESIGNED_ATTEMPTS : MAX_ATTEMPTS;
    if (delivery.attempt >= attempts) throw new UnrecoverableError(`gave up after ${attempts} attempts: ${outcome.reason}`);
    const next = { ...delivery, attempt: delivery.attempt + 1 };
    await context.queues.enqueue(deliverJob, next, { delayMs: retryDelayMs(delivery.attempt), jobId: deliveryJobId(delivery.body, delivery.inbox, next.attempt), priority: 10 });
    log.info("delivery failed, will retry", { inbox: delivery.inbox, attempt: delivery.attempt, reason: outcome.reason });
  },
});

/**
 * Queue one activity for many inboxes in one round trip (BullMQ addBulk), skipping unavailable hosts. The
 * payloads are checked against the job's schema first, as QueueClient.enqueue does.
 */
export async function enqueueDeliveries(
  context: AppContext,
  accountId: string,
  activity: Record<string, unknown>,
  inboxes: string[],
  options: { presignWith?: { uri: string; private_key: string }; syncFollowers?: boolean } = {},
): Promise<number> {
  const live = await availableInboxes(context, inboxes);
  if (live.length === 0) return 0;
  const body = JSON.stringify(activity);
  const failing = await failingHosts(context, live.map(hostOf));
  const jobs = live.map((inbox) => {
    const presigned = options.presignWith ? presign(inbox, body, options.presignWith) : undefined;
    const data = v.parse(deliverySchema, { inbox, accountId, body, attempt: 1, ...(presigned && { presigned }), ...(options.syncFollowers && { syncFollowers: true }) });
    return {
      name: deliverJob.name,
      data,
      opts: {
        jobId: deliveryJobId(body, inbox, 1),
        // BullMQ runs jobs without a priority first: servers that failed lately wait behind healthy ones.
        ...(failing.has(hostOf(inbox)) && { priority: 10 }),
        attempts: 1,
        removeOnComplete: { age: 24 * 3600, count: 5000 },
        removeOnFail: { age: 14 * 24 * 3600 },
      },
    };
  });
  for (let i = 0; i < jobs.length; i += 500) await context.queues.queue("push").addBulk(jobs.slice(i, i + 500));
  return jobs.length;
}
