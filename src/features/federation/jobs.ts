/**
 * Federation jobs.
 *
 * activitypub.process, on `ingress`: one inbound activity, already signature-checked at the inbox.
 * 8 tries from 30 s doubling (Mastodon's ProcessingWorker retries 8 times); a permanently bad activity ends
 * in the failed set with its reason. The job id is derived from the activity id (see the inbox edge), so a
 * replay that arrives while the first is queued or recently done is not queued again.
 *
 * federation.fetch-parent, on `pull`: a reply arrived before its parent (Mastodon's ThreadResolveWorker).
 * The parent is fetched with a signed GET and stored, which may queue its own parent in turn, up to
 * MAX_THREAD_DEPTH; then the reply is linked to it.
 *
 * nothingToDeliver: the publish-time skip of the delivery subscriber (src/events.ts) — what a remote account
 * does to a status never travels on, so a remote post's status.created queues no delivery job at all.
 */
import { UnrecoverableError } from "bullmq";
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { defineJob } from "../../infra/queues/registry";
import type { PublishedEvent } from "../events/types";
import { FetchFailed } from "./fetch";
import { processActivity } from "./inbox";
import { linkParent } from "./handlers/create";
import { isLocalAccountId } from "./handlers/store";

function permanent(error: unknown): never {
  // The other side said something that will not change on a retry (not an actor, 404, 410…): straight
  // to the failed set with the reason, instead of pointless tries.
  if (error instanceof FetchFailed && !error.transient) throw new UnrecoverableError(error.message);
  throw error;
}

export const processActivityJob = defineJob({
  name: "activitypub.process",
  queue: "ingress",
  schema: v.object({
    key: v.pipe(v.string(), v.regex(/^[0-9a-f]{40}$/)),
    activity: v.looseObject({ actor: v.union([v.string(), v.looseObject({ id: v.string() })]) }),
    /** The inbox it arrived at (shared or personal), for handlers that care. */
    inbox: v.pipe(v.string(), v.maxLength(2048)),
  }),
  attempts: 8,
  backoffMs: 30_000,
  async handler(payload, context) {
    try {
      await processActivity(context, payload.activity, payload.key);
    } catch (error) {
      permanent(error);
    }
  },
});

export const fetchParentJob = defineJob({
  name: "federation.fetch-parent",
  queue: "pull",
  schema: v.object({
    statusId: v.pipe(v.string(), v.regex(/^[0-9]{1,19}$/)),
    parentUri: v.pipe(v.string(), v.maxLength(2048), v.url()),
    depth: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
  }),
  attempts: 5,
  backoffMs: 30_000,
  async handler(payload, context) {
    try {
      await linkParent(context, payload.statusId, payload.parentUri, payload.depth);
    } catch (error) {
      permanent(error);
    }
  },
});

// Whether an account is local never changes for its id (rows are not re-homed), so it is remembered for good.
const MAX_REMEMBERED = 100_000;
const localAccounts = new Map<string, boolean>();

async function isLocalAccount(context: AppContext, id: string): Promise<boolean | undefined> {
  const known = localAccounts.get(id);
  if (known !== undefined) return known;
  const local = await isLocalAccountId(context.sql, id);
  if (local === undefined) return undefined;
  if (localAccounts.size >= MAX_REMEMBERED) localAccounts.clear();
  localAccounts.set(id, local);
  return local;
}

/**
 * Status events (posted, edited, deleted, boosted, favourited) go out only when the acting account is local
 * (delivery.ts checks it again); an unknown account is left to the subscriber.
 */
export async function nothingToDeliver(context: AppContext, event: PublishedEvent): Promise<boolean> {
  if (!event.type.startsWith("status.") || !("accountId" in event)) return false;
  return (await isLocalAccount(context, event.accountId)) === false;
}
