/**
 * ActivityPub relays (Mastodon's Relay model and the admin "Relays" page). Subscribing sends a Follow of
 * `as:Public` from the instance actor to the relay's inbox; the relay's Accept / Reject (matched by the
 * Follow's id in the federation Accept / Reject handlers) moves the row to accepted / rejected and records
 * the relay's actor, whose Announces and forwarded Creates are then relay traffic (see inbound.ts).
 * Disabling sends Undo(Follow) and keeps the row as idle (its traffic is no longer taken, nothing is sent to
 * it); enabling sends a fresh Follow (pending again). Removing sends Undo(Follow) and drops the row. What went
 * wrong last (unreachable, not a relay inbox, Reject) stays on the row as last_error for the admin page.
 *
 * The Follow / Undo are POSTed here, synchronously, rather than through the delivery queue: the instance
 * actor is not an account row (delivery signs with account keys), and the operator wants to know at once
 * whether the URL is unreachable or not a relay.
 */
import { randomUUID } from "node:crypto";
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { SafeFetchError } from "../../infra/http/safe-fetch";
import { PUBLIC } from "../federation/addressing";
import { postAsInstanceActor } from "../federation/fetch";
import { instanceActorUri } from "../federation/instance-actor";
import * as store from "./store";

type Ctx = Pick<AppContext, "sql" | "config">;
const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

const inboxSchema = v.pipe(v.string(), v.trim(), v.maxLength(2048), v.url(), v.regex(/^https?:\/\//i, "must be an http(s) URL"));

export function parseRelayInbox(input: string): string {
  const parsed = v.safeParse(inboxSchema, input);
  if (!parsed.success) throw new ApiError(422, `Not a relay inbox URL: ${parsed.issues[0].message}`);
  return new URL(parsed.output).href;
}

/** Why a relay could not be reached, in the operator's words. */
export class RelayUnreachable extends Error {}

/** POST an activity to the relay inbox signed by the instance actor; throws RelayUnreachable with the reason. */
async function postAsInstance(context: Ctx, inbox: string, activity: Record<string, unknown>): Promise<void> {
  let status: number;
  try {
    status = await postAsInstanceActor(context, inbox, activity);
  } catch (error) {
    if (error instanceof SafeFetchError) throw new RelayUnreachable(`${inbox} is unreachable (${error.reason}: ${error.message})`);
    throw error;
  }
  // A relay inbox takes the Follow (200 / 202); anything else (404 page, 405 on a website…) is not a relay.
  if (status < 200 || status >= 300) throw new RelayUnreachable(`${inbox} is not a relay inbox (it answered ${status})`);
}

export async function listRelays(context: Ctx): Promise<store.RelayRow[]> {
  return store.listRelays(context.sql);
}

/** Subscribe (or subscribe again): pending until the relay answers. Nothing is kept when a new URL fails. */
export async function addRelay(context: Ctx, input: string): Promise<store.RelayRow> {
  const inbox = parseRelayInbox(input);
  return follow(context, inbox, await store.findRelayByInbox(context.sql, inbox));
}

/** Enable a known relay (idle, rejected, or stuck pending): a fresh Follow; the row stays as it was if that fails. */
export async function enableRelay(context: Ctx, input: string): Promise<store.RelayRow> {
  return follow(context, ...(await knownRelay(context, input)));
}

async function knownRelay(context: Ctx, input: string): Promise<[string, store.RelayRow]> {
  const inbox = parseRelayInbox(input);
  const row = await store.findRelayByInbox(context.sql, inbox);
  if (!row) throw new ApiError(404, `${inbox} is not a subscribed relay`);
  return [inbox, row];
}

async function follow(context: Ctx, inbox: string, previous: store.RelayRow | undefined): Promise<store.RelayRow> {
  const followId = `${context.config.baseUrl}/relay-follows/${randomUUID()}`;
  const row = await store.upsertPendingRelay(context.sql, inbox, followId);
  try {
    await postAsInstance(context, inbox, { "@context": AS_CONTEXT, id: followId, type: "Follow", actor: instanceActorUri(context.config), object: PUBLIC });
  } catch (error) {
    if (!previous) await store.deleteRelay(context.sql, row.id);
    else await store.restoreRelay(context.sql, previous, error instanceof RelayUnreachable ? error.message : String(error));
    throw error;
  } finally {
    forgetRelayCache();
  }
  return row;
}

/** Undo(Follow) to the relay; the reason when it could not be sent (the caller goes ahead all the same). */
async function undoFollow(context: Ctx, row: store.RelayRow): Promise<string | undefined> {
  const actor = instanceActorUri(context.config);
  try {
    await postAsInstance(context, row.inbox_url, {
      "@context": AS_CONTEXT,
      id: `${row.follow_activity_id}/undo`,
      type: "Undo",
      actor,
      object: { id: row.follow_activity_id, type: "Follow", actor, object: PUBLIC },
    });
    return undefined;
  } catch (error) {
    if (!(error instanceof RelayUnreachable)) throw error;
    return error.message;
  }
}

/**
 * Disable: Undo(Follow), and the row stays as idle. Its traffic stops being taken at once (in this process;
 * others within the cache TTL) even when the Undo cannot be sent — the reason is kept as last_error.
 */
export async function disableRelay(context: Ctx, input: string): Promise<{ relay: store.RelayRow; undoError?: string }> {
  const [, row] = await knownRelay(context, input);
  if (row.state === "idle") return { relay: row };
  const undoError = await undoFollow(context, row);
  const relay = (await store.markIdle(context.sql, row.id, undoError ?? null)) ?? row;
  forgetRelayCache();
  return { relay, ...(undoError && { undoError }) };
}

/**
 * Unsubscribe: Undo(Follow) to the relay, then the row goes. An unreachable relay is removed all the same
 * (it has nothing to deliver to us once we drop its traffic); the reason comes back for the operator. An
 * idle relay was already sent its Undo when it was disabled.
 */
export async function removeRelay(context: Ctx, input: string): Promise<{ removed: store.RelayRow; undoError?: string }> {
  const [, row] = await knownRelay(context, input);
  const undoError = row.state === "idle" ? undefined : await undoFollow(context, row);
  await store.deleteRelay(context.sql, row.id);
  forgetRelayCache();
  return { removed: row, ...(undoError && { undoError }) };
}

export const MAX_PER_MINUTE_LIMIT = 1_000_000;

/** How many activities a minute this relay may push into our ingress queue; the rest is dropped. */
export async function setRelayMaxPerMinute(context: Ctx, input: string, perMinute: number): Promise<void> {
  if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > MAX_PER_MINUTE_LIMIT) throw new ApiError(422, `The limit must be a whole number from 1 to ${MAX_PER_MINUTE_LIMIT}`);
  const [, row] = await knownRelay(context, input);
  await store.setMaxPerMinute(context.sql, row.id, perMinute);
  forgetRelayCache();
}

// Every inbound activity asks "is the signer a relay?" and every public post "which relay inboxes?": a short
// per-process memory saves a query each time. A change made in another process shows within the TTL.
const CACHE_TTL_MS = 10_000;
export interface AcceptedRelay {
  id: string;
  maxPerMinute: number;
}
let cache: { at: number; value: Promise<{ actors: Map<string, AcceptedRelay>; inboxes: string[] }> } | undefined;

export function forgetRelayCache(): void {
  cache = undefined;
}

function accepted(context: Ctx) {
  if (!cache || Date.now() - cache.at > CACHE_TTL_MS) {
    const value = store.acceptedRelays(context.sql).then((rows) => ({
      actors: new Map(rows.filter((r) => r.actor_uri !== null).map((r) => [r.actor_uri!, { id: r.id, maxPerMinute: r.max_per_minute }])),
      inboxes: rows.map((r) => r.inbox_url),
    }));
    value.catch(() => forgetRelayCache());
    cache = { at: Date.now(), value };
  }
  return cache.value;
}

export async function isAcceptedRelayActor(context: Ctx, actorUri: string): Promise<boolean> {
  return (await accepted(context)).actors.has(actorUri);
}

/** The accepted relay whose actor this is (its id and throttle), or undefined. */
export async function acceptedRelayByActor(context: Ctx, actorUri: string): Promise<AcceptedRelay | undefined> {
  return (await accepted(context)).actors.get(actorUri);
}

export async function acceptedRelayInboxes(context: Ctx): Promise<string[]> {
  return (await accepted(context)).inboxes;
}

/**
 * The Accept / Reject hook: when the answered Follow is one of our relay Follows, the row moves and the
 * outcome says so; undefined lets the ordinary follow handling carry on.
 */
export async function answerRelayFollow(context: Ctx, object: unknown, actorUri: string, state: "accepted" | "rejected"): Promise<string | undefined> {
  const followId = typeof object === "string" ? object : typeof object === "object" && object !== null ? (object as { id?: unknown }).id : undefined;
  if (typeof followId !== "string" || !followId.startsWith(`${context.config.baseUrl}/relay-follows/`)) return undefined;
  const [known] = (await store.listRelays(context.sql)).filter((r) => r.follow_activity_id === followId);
  if (!known) return "ignored: unknown relay follow";
  // Only the relay's own server may answer for it (anyone can name our Follow id in an Accept).
  if (new URL(known.inbox_url).host.toLowerCase() !== new URL(actorUri).host.toLowerCase()) return "ignored: relay answer from another host";
  const row = await store.answerRelayFollow(context.sql, followId, state, actorUri);
  if (!row) return "ignored: unknown relay follow";
  forgetRelayCache();
  return `relay ${state}`;
}
