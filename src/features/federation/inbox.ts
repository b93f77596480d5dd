/**
 * Processing inbound activities (the `activitypub.process` job on `ingress`). The inbox edge has already
 * checked the HTTP signature and that its key belongs to the activity's actor.
 *
 * What is handled so far: the sending actor is stored or refreshed (older than a day → refetched); an
 * actor's Delete of itself removes that remote account; an Update of the actor refreshes it. Activities the
 * social core cannot take from remote actors yet (Create, Like, Announce, Follow, Undo, Accept, Reject,
 * Block, Flag, Move, Add, Remove…) are logged and dropped — TODO(issue 6): hand them to the statuses, graph
 * and interactions services once those accept remote input.
 *
 * Once: a processed activity id is remembered for a week, so a replay that gets past the queue's job-id
 * dedupe (the job record is dropped after a day) is still a no-op. Safe to run twice.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { FetchFailed } from "./fetch";
import { forgetKeysOf } from "./keys";
import { deleteRemoteByUri, ensureRemoteActor, fetchRemoteActor, findRemoteByUri, ACTOR_TYPES } from "./remote-accounts";

const SEEN_TTL_SECONDS = 7 * 24 * 3600;

export type Activity = Record<string, unknown>;

/** The id of a property that may be a URI string or an embedded object. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as Record<string, unknown>).id === "string") return (value as { id: string }).id;
  return undefined;
}

/** A short stable key for an activity: its id when it has one, else its whole body. */
export function activityKey(activity: Activity, body: string): string {
  const id = typeof activity.id === "string" ? activity.id : body;
  return createHash("sha256").update(id).digest("hex").slice(0, 40);
}

function seenKey(context: AppContext, key: string): string {
  return `${context.config.redis.namespace ? `${context.config.redis.namespace}:` : ""}fed:seen:${key}`;
}

function typeOf(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const type = (value as Record<string, unknown>).type;
    if (typeof type === "string") return type;
    if (Array.isArray(type) && typeof type[0] === "string") return type[0];
  }
  return "";
}

export interface ProcessResult {
  outcome: "duplicate" | "actor_deleted" | "actor_updated" | "unsupported";
}

export async function processActivity(context: AppContext, activity: Activity, key: string): Promise<ProcessResult> {
  if (await context.redis.exists(seenKey(context, key))) return { outcome: "duplicate" };
  const result = await handle(context, activity);
  await context.redis.set(seenKey(context, key), "1", "EX", SEEN_TTL_SECONDS);
  return result;
}

async function handle(context: AppContext, activity: Activity): Promise<ProcessResult> {
  const actorUri = idOf(activity.actor)!;
  const type = typeOf(activity);
  const objectId = idOf(activity.object);

  if (type === "Delete" && objectId === actorUri) {
    // The actor is gone: nothing to fetch (it answers 410 now). Their content goes with the row (cascades).
    const known = await findRemoteByUri(context.sql, actorUri);
    await deleteRemoteByUri(context.sql, actorUri);
    await forgetKeysOf(context, [`${actorUri}#main-key`, `${actorUri}/main-key`]);
    log.info("remote actor deleted", { actor: actorUri, known: known !== undefined });
    return { outcome: "actor_deleted" };
  }

  if (type === "Update" && objectId === actorUri && ACTOR_TYPES.includes(typeOf(activity.object))) {
    // Fetched from its origin rather than trusting the embedded copy.
    await fetchRemoteActor(context, actorUri);
    return { outcome: "actor_updated" };
  }

  try {
    await ensureRemoteActor(context, actorUri);
  } catch (error) {
    // A transient failure is worth a retry of the whole job; a permanent one is not (the activity itself
    // is not processed yet either way).
    if (error instanceof FetchFailed && error.transient) throw error;
    log.warn("could not refresh a remote actor", { actor: actorUri, error: (error as Error).message });
  }
  // TODO(issue 6): Create/Update(Note), Follow, Accept, Reject, Undo, Like, Announce, Block, Flag, Move,
  // Add/Remove need the social core's services to accept remote actors; until then they are dropped here.
  log.info("activity not handled yet (issue 6)", { type, id: activity.id, actor: actorUri });
  return { outcome: "unsupported" };
}
