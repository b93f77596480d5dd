/**
 * Relay traffic in. The inbox edge (src/activitypub/inbox.ts) knows who signed a request; when that is an
 * accepted relay's actor and the activity is an Announce (of a post), or a Create / Update / Delete forwarded
 * for someone else (signed by the relay, actor ≠ signer), the activity goes to `relays.ingest` instead of the ordinary
 * processing. The relay vouches for nothing; the author's Linked Data Signature (RsaSignature2017,
 * src/features/federation/ld-signatures.ts) can, as Mastodon's verify_actor! does:
 *   - forwarded with a signature that verifies and is the actor's: a Create is stored from the payload (no
 *     refetch), an Update is applied as an edit of our copy, a Delete removes our copy — exactly as if the
 *     author had sent them (the ordinary handlers' guards: same author, same host);
 *   - a signature present but wrong (tampered document or options, someone else's key): refused, nothing is
 *     stored or fetched (Mastodon drops it);
 *   - no signature, or one we cannot check (a context we do not hold offline, an unreachable key): a Create or
 *     Announce is fetched from its origin with a signed GET and stored from that copy; a Delete removes our
 *     copy only when the origin confirms it (404 / 410 / Tombstone); an Update is dropped.
 * Only the post is stored, as the author's status: no boost by the relay (Mastodon's
 * requested_through_relay?), and no media download (remote media stays a URL until viewed). The signature is
 * checked in the job, not at the inbox: canonicalisation costs CPU, and relay traffic waits behind the rest.
 *
 * Priority: these jobs carry RELAY_PRIORITY on `ingress`; BullMQ runs un-prioritised jobs (activities from
 * accounts local users follow, and everything else) first, so a relay firehose waits behind them. Before any
 * of that, each relay's traffic is admitted up to its per-minute limit (throttle.ts); the excess is dropped.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { fetchActivityJson, FetchFailed } from "../federation/fetch";
import { handleDeleteObject, removeStatus } from "../federation/handlers/delete";
import { statusByUri } from "../federation/handlers/store";
import { handleUpdateNote } from "../federation/handlers/update";
import { ensureRemoteActor, type AccountRow } from "../federation/remote-accounts";
import { fetchRemoteStatus, NOTE_TYPES, parseNote, sameHost, storeRemoteNote, typeOf } from "../federation/remote-statuses";
import { verifyForwardedActivity } from "../federation/ld-signatures";
import * as statuses from "../statuses/store";
import { UnrecoverableError } from "bullmq";
import { createHash } from "node:crypto";
import { acceptedRelayByActor } from "./service";
import { admitRelayed } from "./throttle";

export const RELAY_PRIORITY = 50;

export const relayIngestJob = defineJob({
  name: "relays.ingest",
  queue: "ingress",
  schema: v.object({
    objectUri: v.pipe(v.string(), v.maxLength(2048), v.url(), v.regex(/^https?:\/\//)),
    relay: v.pipe(v.string(), v.maxLength(2048)),
    /** post: store the object; delete: the relay forwarded a Delete — remove ours if the origin agrees;
     *  update: a forwarded Update (only queued with its LD-signed activity). */
    kind: v.optional(v.picklist(["post", "delete", "update"])),
    /** The forwarded activity itself, when it carries a Linked Data Signature to check (see above). */
    activity: v.optional(v.record(v.string(), v.unknown())),
  }),
  attempts: 3,
  backoffMs: 30_000,
  async handler(payload, context) {
    try {
      if (payload.activity && (await takeSigned(context, payload.activity, payload.relay))) return;
      if (payload.kind === "update") return;
      if (payload.kind === "delete") {
        await confirmDeletion(context, payload.objectUri);
        return;
      }
      const id = await fetchRemoteStatus(context, payload.objectUri);
      log.debug("relayed post", { relay: payload.relay, object: payload.objectUri, stored: id !== undefined });
    } catch (error) {
      if (error instanceof FetchFailed && !error.transient) throw new UnrecoverableError(error.message);
      throw error;
    }
  },
});

/**
 * A forwarded activity with a Linked Data Signature: true when it has been dealt with here (verified and
 * processed as the author's own, or refused for a bad signature); false when the signature could not be
 * checked, and the unsigned path (refetch from the origin) applies.
 */
async function takeSigned(context: AppContext, activity: Record<string, unknown>, relay: string): Promise<boolean> {
  // A Create that only names its object has nothing signed to store: the origin's copy it is.
  if (activity.type === "Create" && (typeof activity.object !== "object" || activity.object === null)) return false;
  const check = await verifyForwardedActivity(context, activity);
  if (check.status === "invalid") {
    log.info("relayed activity with a bad LD signature refused", { relay, id: activity.id, reason: check.reason });
    return true;
  }
  if (check.status !== "verified") {
    log.debug("relayed activity's LD signature not checked", { relay, id: activity.id, status: check.status, ...(check.status === "unverifiable" && { reason: check.reason }) });
    return false;
  }
  const actor = await ensureRemoteActor(context, check.owner);
  const input = { context, activity, actor };
  const outcome =
    activity.type === "Create"
      ? await storeSignedCreate(context, activity, actor)
      : activity.type === "Update"
        ? ((await staleEdit(context, activity)) ?? (await handleUpdateNote(input)))
        : await handleDeleteObject(input);
  log.debug("relayed LD-signed activity", { relay, id: activity.id, type: activity.type, outcome });
  return true;
}

/**
 * A signature has no expiry, so a relay could replay an old signed Update: an edit is applied only when its
 * `updated` is later than our copy's current version (Mastodon's rule too); without `updated`, only a
 * Question's new vote counts are taken. Returns why it is ignored, or undefined to go ahead.
 */
async function staleEdit(context: AppContext, activity: Record<string, unknown>): Promise<string | undefined> {
  const note = typeof activity.object === "object" && activity.object !== null ? parseNote(activity.object as Record<string, unknown>) : undefined;
  if (!note) return undefined; // the handler says why
  const known = await statusByUri(context.sql, note.uri);
  const current = known && !known.deleted_at ? await statuses.findLive(context.sql, known.id) : undefined;
  if (!current) return undefined;
  if (!note.updated) return typeOf(activity.object) === "Question" ? undefined : "ignored: an edit without `updated`";
  return note.updated.getTime() > (current.edited_at ?? current.created_at).getTime() ? undefined : "ignored: not newer than our copy";
}

/** A verified Create: the post from the payload, under handleCreate's authorship guards (not its "concerns us"). */
async function storeSignedCreate(context: AppContext, activity: Record<string, unknown>, actor: AccountRow): Promise<string> {
  if (!NOTE_TYPES.includes(typeOf(activity.object))) return "ignored: unsupported object type";
  const note = parseNote(activity.object as Record<string, unknown>);
  if (!note) return "ignored: invalid object";
  if (note.attributedTo !== actor.uri || !sameHost(note.uri, actor.uri)) return "ignored: object not the actor's";
  const stored = await storeRemoteNote(context, actor, note);
  return !stored ? "ignored: deleted" : stored.created ? "created" : "duplicate";
}

/**
 * A Delete forwarded by a relay without the author's checked signature is the relay's word only: the post
 * goes only when its origin no longer serves it (404 / 410, or a Tombstone). A post that still answers stays.
 */
async function confirmDeletion(context: AppContext, objectUri: string): Promise<void> {
  const known = await statusByUri(context.sql, objectUri);
  if (!known || known.local || known.deleted_at) return;
  let gone = false;
  try {
    const fetched = await fetchActivityJson(context, objectUri);
    gone = fetched.json.type === "Tombstone";
  } catch (error) {
    if (!(error instanceof FetchFailed) || error.transient) throw error;
    gone = / answered (404|410)$/.test(error.message);
  }
  if (gone) await removeStatus(context, known.id);
  log.debug("relayed delete", { object: objectUri, removed: gone });
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string") return (value as { id: string }).id;
  return undefined;
}

/**
 * Called by the inbox edge once the signature is checked: true when the activity was relay traffic and has
 * been queued (or dropped) here. `signer` is the verified key's owner.
 */
export async function takeRelayedActivity(context: AppContext, activity: Record<string, unknown>, signer: string): Promise<boolean> {
  const type = activity.type;
  const actor = idOf(activity.actor);
  const announce = type === "Announce" && actor === signer;
  const forwarded = (type === "Create" || type === "Delete" || type === "Update") && actor !== signer;
  if (!announce && !forwarded) return false;
  const relay = await acceptedRelayByActor(context, signer);
  if (!relay) return false;
  // Admission (throttle.ts): past this relay's per-minute allowance the activity is acknowledged and dropped.
  if (!(await admitRelayed(context, relay, signer))) return true;
  // A forwarded activity that carries a Linked Data Signature travels with the job, to be checked there.
  const signed = forwarded && typeof activity.signature === "object" && activity.signature !== null ? activity : undefined;
  // A forwarded edit without one is acknowledged and dropped: the author's own Update reaches servers whose
  // users follow them; a relay's word alone does not change our copy.
  if (type === "Update" && !signed) return true;
  const objectUri = idOf(activity.object);
  if (!objectUri || !/^https?:\/\//.test(objectUri) || objectUri.length > 2048) return true;
  const kind = type === "Delete" ? "delete" : type === "Update" ? "update" : "post";
  // A post once (relays repeat themselves) — a signed copy once per exact body, so a tampered copy cannot
  // shadow the genuine one; each Delete / Update on its own (the origin's answer, or the version, may have
  // changed).
  const dedupe =
    kind === "post" ? (signed ? `${objectUri}\n${JSON.stringify(signed)}` : objectUri) : `${objectUri}\n${typeof activity.id === "string" ? activity.id : Date.now()}`;
  const jobId = `relay-${kind}-${createHash("sha256").update(dedupe).digest("hex").slice(0, 40)}`;
  await context.queues.enqueue(relayIngestJob, { objectUri, relay: signer, kind, ...(signed && { activity: signed }) }, { jobId, priority: RELAY_PRIORITY });
  return true;
}
