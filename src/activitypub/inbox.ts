/**
 * The inboxes: POST /inbox (shared), /users/:name/inbox and /actor/inbox. Mastodon's order of checks:
 *   body over 1 MB → 413 (Content-Length first, then the read itself is capped), before any parsing;
 *   not a JSON object with an actor → 400;
 *   unsigned, bad digest, stale or future date, bad signature → 401 (the key is re-fetched once when the
 *   cached one fails, for key rotation); a key that does not belong to the activity's actor → 401;
 *   the actor's domain is suspended → 202 and dropped; an unknown actor's Delete of itself → 202, skipped;
 *   otherwise the activity is put on `ingress` and only then answered 202.
 * The job id is derived from the activity id, so a replay while the first copy is queued is not queued again
 * (and the handler remembers processed ids for a week).
 */
import { Elysia } from "elysia";
import { findVisibleLocalAccount } from "../features/accounts/service";
import { activityKey, idOf } from "../features/federation/inbox";
import { processActivityJob } from "../features/federation/jobs";
import { findRemoteByUri } from "../features/federation/remote-accounts";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { log } from "../infra/log";
import { isRefusedHostRemembered } from "./refused-hosts";
import { readSignature, verifiedKey } from "./signed-request";
import { markAvailable, unavailableHosts } from "../features/federation/failure-tracker";
import { takeRelayedActivity } from "../features/relays/inbound";
import { verifyForwardedActivity } from "../features/federation/ld-signatures";
import { SYNC_HEADER } from "../features/federation/followers-digest";
import { noteSynchronizationHeader } from "../features/federation/followers-sync";

/** Mastodon's MAX_JSON_SIZE. */
export const MAX_INBOX_BYTES = 1024 * 1024;
const ROUTE = { parse: "none" as const, detail: { hide: true } };

const tooLarge = () => new ApiError(413, "The request body is too large");

async function readCapped(request: Request): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > MAX_INBOX_BYTES) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_INBOX_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function parseActivity(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw ApiError.badRequest("The body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw ApiError.badRequest("The body is not a JSON object");
  const activity = value as Record<string, unknown>;
  const actor = idOf(activity.actor);
  if (!actor || !/^https?:\/\//.test(actor)) throw ApiError.badRequest("The activity has no actor");
  if (activity.id !== undefined && typeof activity.id !== "string") throw ApiError.badRequest("The activity id is not a string");
  return activity;
}

async function receive(context: AppContext, request: Request, inbox: string): Promise<Response> {
  const bytes = await readCapped(request);
  const activity = parseActivity(bytes);
  const actor = idOf(activity.actor)!;
  const signature = readSignature(context, request, "POST", bytes);

  if (await isRefusedHostRemembered(context, new URL(actor).host)) {
    log.info("activity from a refused domain (suspended, or not allowed in limited federation mode) dropped", { actor });
    return new Response(null, { status: 202 });
  }

  // An actor we never knew announcing its own deletion: nothing to remove, and its key is gone with it
  // (Mastodon answers 202 and skips it without a fetch).
  if (activity.type === "Delete" && idOf(activity.object) === actor && !(await findRemoteByUri(context.sql, actor))) {
    return new Response(null, { status: 202 });
  }

  const key = await verifiedKey(context, signature);
  // Relays (src/features/relays/inbound.ts): an accepted relay's Announce, or a Create / Delete / Update it
  // forwards for someone else (signed by the relay, so the owner check below would refuse it), goes there.
  if (await takeRelayedActivity(context, activity, key.owner)) return new Response(null, { status: 202 });
  // Forwarded by another server (a reply passed on to its followers…): the actor's own Linked Data Signature
  // makes it the actor's word (Mastodon's verify_actor!; ./ld-signatures.ts). Without one that verifies, refused.
  if (key.owner !== actor && (await verifyForwardedActivity(context, activity)).status !== "verified") {
    throw ApiError.unauthorized("The signing key does not belong to the activity's actor");
  }

  const jobKey = activityKey(activity, new TextDecoder().decode(bytes));
  await context.queues.enqueue(processActivityJob, { key: jobKey, activity: activity as never, inbox }, { jobId: `ap-${jobKey}` });
  // The sender's view of who here follows it (followers-only deliveries, FEP-8fcf): checked in a job.
  const sync = request.headers.get(SYNC_HEADER);
  if (sync && key.owner === actor) await noteSynchronizationHeader(context, actor, sync);
  // A server that talks to us is alive: deliveries to it resume (Mastodon's inbox does the same). The check is
  // against a per-process cached set, so the common case costs nothing.
  const signerHost = new URL(actor).host.toLowerCase();
  if ((await unavailableHosts(context.sql)).has(signerHost)) await markAvailable(context, signerHost);
  return new Response(null, { status: 202 });
}

export function inboxRoutes(context: AppContext) {
  return new Elysia({ name: "activitypub-inbox" })
    .post("/inbox", ({ request }) => receive(context, request, "/inbox"), ROUTE)
    .post("/actor/inbox", ({ request }) => receive(context, request, "/actor/inbox"), ROUTE)
    .post(
      "/users/:name/inbox",
      async ({ request, params }) => {
        if (!(await findVisibleLocalAccount(context.sql, params.name))) throw ApiError.notFound();
        return receive(context, request, `/users/${params.name}/inbox`);
      },
      ROUTE,
    );
}
