/**
 * Relay traffic in. The inbox edge (src/activitypub/inbox.ts) knows who signed a request; when that is an
 * accepted relay's actor and the activity is an Announce (of a post), or a Create forwarded for someone else
 * (signed by the relay, actor ≠ signer), the post's id goes to `relays.ingest` instead of the ordinary
 * processing: the relay vouches for nothing, so the post is fetched from its origin with a signed GET and
 * stored from that copy (Linked Data Signatures, RsaSignature2017, are not verified: no maintained library
 * makes that small, and refetching is what Mastodon also does when it cannot check one). Only the post is
 * stored, as the author's public status: no boost by the relay (Mastodon's requested_through_relay?), and
 * no media download (remote media stays a URL until viewed).
 *
 * A Delete forwarded by the relay removes our copy only when the origin confirms it (404 / 410 / Tombstone);
 * a forwarded Update is acknowledged and dropped (not applied to relayed copies yet).
 *
 * Priority: these jobs carry RELAY_PRIORITY on `ingress`; BullMQ runs un-prioritised jobs (activities from
 * accounts local users follow, and everything else) first, so a relay firehose waits behind them.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { fetchActivityJson, FetchFailed } from "../federation/fetch";
import { removeStatus } from "../federation/handlers/delete";
import { statusByUri } from "../federation/handlers/store";
import { fetchRemoteStatus } from "../federation/remote-statuses";
import { UnrecoverableError } from "bullmq";
import { createHash } from "node:crypto";
import { isAcceptedRelayActor } from "./service";

export const RELAY_PRIORITY = 50;

export const relayIngestJob = defineJob({
  name: "relays.ingest",
  queue: "ingress",
  schema: v.object({
    objectUri: v.pipe(v.string(), v.maxLength(2048), v.url(), v.regex(/^https?:\/\//)),
    relay: v.pipe(v.string(), v.maxLength(2048)),
    /** post: store the object; delete: the relay forwarded a Delete — remove ours if the origin agrees. */
    kind: v.optional(v.picklist(["post", "delete"])),
  }),
  attempts: 3,
  backoffMs: 30_000,
  async handler(payload, context) {
    try {
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
 * A Delete forwarded by a relay is not the author's signature either: the post goes only when its origin no
 * longer serves it (404 / 410, or a Tombstone). A post that still answers stays.
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
  if (!(await isAcceptedRelayActor(context, signer))) return false;
  // A forwarded edit is acknowledged and dropped: the author's own Update reaches servers whose users follow
  // them; refreshing relayed copies on a relay's word is left for later.
  if (type === "Update") return true;
  const objectUri = idOf(activity.object);
  if (!objectUri || !/^https?:\/\//.test(objectUri) || objectUri.length > 2048) return true;
  const kind = type === "Delete" ? "delete" : "post";
  // A post once (relays repeat themselves); each Delete on its own (the origin's answer may have changed).
  const dedupe = kind === "post" ? objectUri : `${objectUri}\n${typeof activity.id === "string" ? activity.id : Date.now()}`;
  const jobId = `relay-${kind}-${createHash("sha256").update(dedupe).digest("hex").slice(0, 40)}`;
  await context.queues.enqueue(relayIngestJob, { objectUri, relay: signer, kind }, { jobId, priority: RELAY_PRIORITY });
  return true;
}
