/**
 * Processing inbound activities (the `activitypub.process` job on `ingress`). The inbox edge has already
 * checked the HTTP signature and that its key belongs to the activity's actor.
 *
 * The sending actor is stored or refreshed first (older than a day → refetched); an actor's Delete of
 * itself removes that remote account and an Update of the actor refreshes it. Everything else goes to one
 * handler per activity type (handlers/): Create, Update (of a post), Delete (of a post), Announce, Like /
 * EmojiReact (and Misskey's Like with a reaction), Undo, Follow, Accept, Reject, Block, Flag, Move, Add /
 * Remove (pinned posts). Unknown types are logged and dropped. Accounts of a silenced domain are silenced as
 * they arrive; suspended domains never get here (the inbox drops them at the door). A handler answers with
 * an outcome ("created", "ignored: why", …) for logs and tests; ignoring is not an error.
 *
 * Once: a processed activity id is remembered for a week, so a replay that gets past the queue's job-id
 * dedupe (the job record is dropped after a day) is still a no-op. Safe to run twice.
 */
import { createHash } from "node:crypto";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { FetchFailed } from "./fetch";
import { forgetKeysOf } from "./keys";
import { deleteRemoteByUri, ensureRemoteActor, fetchRemoteActor, findRemoteByUri, ACTOR_TYPES, type AccountRow } from "./remote-accounts";
import { handleAnnounce } from "./handlers/announce";
import { handleCreate } from "./handlers/create";
import { handleDeleteObject } from "./handlers/delete";
import { handleAdd, handleRemove } from "./handlers/featured";
import { handleFlag } from "./handlers/flag";
import { handleAccept, handleBlock, handleFollow, handleReject } from "./handlers/follow";
import { handleLike } from "./handlers/like";
import { handleMove } from "./handlers/move";
import * as inbound from "./handlers/store";
import type { Inbound, Outcome } from "./handlers/types";
import { handleUndo } from "./handlers/undo";
import { handleUpdateNote } from "./handlers/update";
import { findDomainBlockCovering } from "./store";

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
  /** "duplicate", "actor_deleted", "actor_updated", "unsupported", or what a handler did ("created", "ignored: …"). */
  outcome: Outcome;
}

const HANDLERS: Record<string, (input: Inbound) => Promise<Outcome>> = {
  Create: handleCreate,
  Update: handleUpdateNote,
  Delete: handleDeleteObject,
  Announce: handleAnnounce,
  Like: handleLike,
  EmojiReact: handleLike,
  Undo: handleUndo,
  Follow: handleFollow,
  Accept: handleAccept,
  Reject: handleReject,
  Block: handleBlock,
  Flag: handleFlag,
  Move: handleMove,
  Add: handleAdd,
  Remove: handleRemove,
};

// Domain blocks change rarely and every activity asks: a short per-process memory saves a query each time.
const SEVERITY_TTL_MS = 30_000;
const severities = new Map<string, { severity: string | undefined; at: number }>();

/** Forget the remembered severities (a block changed in this process; tests). Others see it within 30 s. */
export function forgetDomainSeverities(): void {
  severities.clear();
}

async function domainSeverity(context: AppContext, domain: string): Promise<string | undefined> {
  const cached = severities.get(domain);
  if (cached && Date.now() - cached.at < SEVERITY_TTL_MS) return cached.severity;
  const severity = (await findDomainBlockCovering(context.sql, domain))?.severity;
  if (severities.size > 10_000) severities.clear();
  severities.set(domain, { severity, at: Date.now() });
  return severity;
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

  let actor: AccountRow | undefined;
  try {
    actor = await ensureRemoteActor(context, actorUri);
  } catch (error) {
    // A transient failure is worth a retry of the whole job; a permanent one is not (the activity itself
    // is not processed yet either way).
    if (error instanceof FetchFailed && error.transient) throw error;
    log.warn("could not refresh a remote actor", { actor: actorUri, error: (error as Error).message });
    actor = await findRemoteByUri(context.sql, actorUri);
  }
  const handler = HANDLERS[type];
  if (!handler || !actor) {
    log.info("activity not handled", { type, id: activity.id, actor: actorUri, known: actor !== undefined });
    return { outcome: "unsupported" };
  }
  if (!actor.silenced_at && (await domainSeverity(context, actor.domain ?? "")) === "silence") {
    await inbound.silenceIfUnsilenced(context.sql, actor.id);
  }
  const outcome = await handler({ context, activity, actor });
  log.debug("activity processed", { type, id: activity.id, actor: actorUri, outcome });
  return { outcome };
}
