/**
 * ActivityPub relays (Mastodon's Relay model and the admin "Relays" page). Subscribing sends a Follow of
 * `as:Public` from the instance actor to the relay's inbox; the relay's Accept / Reject (matched by the
 * Follow's id in the federation Accept / Reject handlers) moves the row to accepted / rejected and records
 * the relay's actor, whose Announces and forwarded Creates are then relay traffic (see inbound.ts).
 * Removing sends Undo(Follow) and drops the row.
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

/** Subscribe (or subscribe again): pending until the relay answers. Nothing is kept when the POST fails. */
export async function addRelay(context: Ctx, input: string): Promise<store.RelayRow> {
  const inbox = parseRelayInbox(input);
  const previous = await store.findRelayByInbox(context.sql, inbox);
  const followId = `${context.config.baseUrl}/relay-follows/${randomUUID()}`;
  const row = await store.upsertPendingRelay(context.sql, inbox, followId);
  try {
    await postAsInstance(context, inbox, { "@context": AS_CONTEXT, id: followId, type: "Follow", actor: instanceActorUri(context.config), object: PUBLIC });
  } catch (error) {
    if (!previous) await store.deleteRelay(context.sql, row.id);
    else await context.sql`update relays set state = ${previous.state}, follow_activity_id = ${previous.follow_activity_id}, actor_uri = ${previous.actor_uri} where id = ${row.id}`;
    throw error;
  }
  forgetRelayCache();
  return row;
}

/**
 * Unsubscribe: Undo(Follow) to the relay, then the row goes. An unreachable relay is removed all the same
 * (it has nothing to deliver to us once we drop its traffic); the reason comes back for the operator.
 */
export async function removeRelay(context: Ctx, input: string): Promise<{ removed: store.RelayRow; undoError?: string }> {
  const inbox = parseRelayInbox(input);
  const row = await store.findRelayByInbox(context.sql, inbox);
  if (!row) throw new ApiError(404, `${inbox} is not a subscribed relay`);
  let undoError: string | undefined;
  const actor = instanceActorUri(context.config);
  try {
    await postAsInstance(context, inbox, {
      "@context": AS_CONTEXT,
      id: `${row.follow_activity_id}/undo`,
      type: "Undo",
      actor,
      object: { id: row.follow_activity_id, type: "Follow", actor, object: PUBLIC },
    });
  } catch (error) {
    if (!(error instanceof RelayUnreachable)) throw error;
    undoError = error.message;
  }
  await store.deleteRelay(context.sql, row.id);
  forgetRelayCache();
  return { removed: row, ...(undoError && { undoError }) };
}

// Every inbound activity asks "is the signer a relay?" and every public post "which relay inboxes?": a short
// per-process memory saves a query each time. A change made in another process shows within the TTL.
const CACHE_TTL_MS = 10_000;
let cache: { at: number; value: Promise<{ actors: Set<string>; inboxes: string[] }> } | undefined;

export function forgetRelayCache(): void {
  cache = undefined;
}

function accepted(context: Ctx) {
  if (!cache || Date.now() - cache.at > CACHE_TTL_MS) {
    const value = store.acceptedRelays(context.sql).then((rows) => ({
      actors: new Set(rows.map((r) => r.actor_uri).filter((a): a is string => a !== null)),
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
