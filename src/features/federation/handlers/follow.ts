/**
 * Follow, Accept(Follow), Reject(Follow) and Block from a remote actor, through the graph service so the
 * rules and events are the local ones: a locked local account gets a follow request, an unlocked one a
 * follower (account.follow_requested / account.followed; delivery answers with Accept from those events);
 * an Accept turns our pending request into a follow; a Reject drops the request or the follow; a Block cuts
 * follows both ways (Mastodon's ActivityPub::Activity::{Follow,Accept,Reject,Block}).
 *
 * Events published here carry the remote actor as the one acting (accountId or initiatedBy), so delivery
 * subscribers can tell they must not send anything back for them.
 */
import { ApiError } from "../../../infra/errors";
import type { AppContext } from "../../../infra/context";
import { authorizeFollowRequest, block, findFollowRequestByUri, follow, unfollow } from "../../graph/service";
import { objectId, typeOf } from "../remote-statuses";
import * as inbound from "./store";
import { answerRelayFollow } from "../../relays/service";
import type { Inbound, Outcome } from "./types";

/** The local account an activity's object (an actor URI) names. */
async function localTarget(context: AppContext, object: unknown) {
  const uri = objectId(object);
  if (!uri) return undefined;
  const [account] = await inbound.localAccountsByUris(context.sql, [uri]);
  return account;
}

export async function handleFollow({ context, activity, actor }: Inbound): Promise<Outcome> {
  const target = await localTarget(context, activity.object);
  if (!target) return "ignored: not a local account";
  if (target.suspended_at) return "ignored: target suspended";
  try {
    await follow(context, { id: actor.id }, { id: target.id, locked: target.locked, suspended_at: target.suspended_at, domain: null }, { uri: objectId(activity.id) ?? null });
  } catch (error) {
    // Blocked either way: no follow (Mastodon answers with a Reject; delivery's business).
    if (error instanceof ApiError) return `ignored: ${error.message}`;
    throw error;
  }
  return target.locked ? "follow requested" : "followed";
}

/**
 * The local follower of an Accept / Reject: by our Follow's id, else by the embedded Follow's actor; the
 * Follow must have been addressed to the activity's actor.
 */
async function ourFollower(context: AppContext, object: unknown, actorId: string): Promise<string | undefined> {
  const followUri = objectId(object);
  if (followUri) {
    const request = await findFollowRequestByUri(context.sql, followUri);
    if (request && request.target_account_id === actorId) return request.account_id;
    // Our Follow ids are <local actor>#follows/<id>: an accepted follow (no request left) is named that way.
    const local = typeof object === "string" && followUri.includes("#") ? await localTarget(context, followUri.split("#")[0]) : undefined;
    if (local) return local.id;
  }
  if (typeof object === "object" && object !== null && typeOf(object) === "Follow") {
    const embedded = object as Record<string, unknown>;
    const follower = await localTarget(context, embedded.actor);
    const target = objectId(embedded.object);
    if (follower && (target === undefined || (await inbound.accountsByUris(context.sql, [target]))[0]?.id === actorId)) return follower.id;
  }
  return undefined;
}

export async function handleAccept({ context, activity, actor }: Inbound): Promise<Outcome> {
  // A relay accepting our instance actor's Follow (src/features/relays).
  const relay = await answerRelayFollow(context, activity.object, actor.uri, "accepted");
  if (relay) return relay;
  const followerId = await ourFollower(context, activity.object, actor.id);
  if (!followerId) return "ignored: no matching follow request";
  try {
    await authorizeFollowRequest(context, { id: actor.id }, followerId);
  } catch (error) {
    // Already accepted (a repeated Accept): nothing pending.
    if (error instanceof ApiError && error.status === 404) return "duplicate";
    throw error;
  }
  return "accepted";
}

export async function handleReject({ context, activity, actor }: Inbound): Promise<Outcome> {
  const relay = await answerRelayFollow(context, activity.object, actor.uri, "rejected");
  if (relay) return relay;
  const followerId = await ourFollower(context, activity.object, actor.id);
  if (!followerId) return "ignored: no matching follow";
  // Drops the pending request, or the follow if it had been accepted before.
  await unfollow(context, { id: followerId }, actor.id, actor.id);
  return "rejected";
}

export async function handleBlock({ context, activity, actor }: Inbound): Promise<Outcome> {
  const target = await localTarget(context, activity.object);
  if (!target) return "ignored: not a local account";
  await block(context, { id: actor.id }, target.id);
  return "blocked";
}
