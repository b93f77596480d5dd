/**
 * Undo(Follow | Like | EmojiReact | Announce | Block) by the actor who did it (Mastodon's
 * ActivityPub::Activity::Undo). The undone activity is usually embedded; when only its id is given, it is
 * found by that id where we keep one (boosts by their Announce id, follows by their Follow id).
 */
import { publishEvent } from "../../events/publish";
import { unblock, unfollow } from "../../graph/service";
import * as interactions from "../../interactions/store";
import { forgetNotification } from "../../notifications/service";
import { objectId, typeOf } from "../remote-statuses";
import { likedStatus } from "./like";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

async function undoAnnounce({ context, actor }: Inbound, announceId: string): Promise<Outcome> {
  const boost = await inbound.statusByUri(context.sql, announceId);
  if (!boost || !boost.reblog_of_id || boost.account_id !== actor.id) return "ignored: unknown boost";
  const removed = await context.sql.begin((tx) => interactions.deleteReblog(tx, actor.id, boost.reblog_of_id!));
  if (!removed) return "duplicate";
  await publishEvent(context, { type: "status.deleted", statusId: removed.id, accountId: actor.id, visibility: removed.visibility, reblogOfId: boost.reblog_of_id });
  return "unreblogged";
}

async function undoLike({ context, actor }: Inbound, object: unknown): Promise<Outcome> {
  const status = await likedStatus(context, object, actor.id);
  if (!status) return "ignored: unknown status";
  const removed = await context.sql.begin((tx) => interactions.deleteMark(tx, "favourites", actor.id, status.id));
  if (!removed) return "duplicate";
  // The favourite's notification goes with it, as when a local user unfavourites.
  await forgetNotification(context.sql, { accountId: status.account_id, fromAccountId: actor.id, type: "favourite", statusId: status.id });
  return "unfavourited";
}

async function localAccountId(input: Inbound, object: unknown): Promise<string | undefined> {
  const uri = objectId(object);
  if (!uri) return undefined;
  return (await inbound.localAccountsByUris(input.context.sql, [uri]))[0]?.id;
}

export async function handleUndo(input: Inbound): Promise<Outcome> {
  const { activity, actor, context } = input;
  const object = activity.object;
  if (typeof object === "string") {
    const uri = objectId(object);
    if (!uri) return "ignored: no object";
    const boost = await inbound.statusByUri(context.sql, uri);
    if (boost?.reblog_of_id) return undoAnnounce(input, uri);
    return "ignored: unknown object";
  }
  if (typeof object !== "object" || object === null) return "ignored: no object";
  const undone = object as Record<string, unknown>;
  // The undone activity must be the actor's own.
  const undoneActor = objectId(undone.actor);
  if (undoneActor !== undefined && undoneActor !== actor.uri) return "ignored: not the actor's activity";
  switch (typeOf(undone)) {
    case "Announce": {
      const id = objectId(undone.id);
      return id ? undoAnnounce(input, id) : "ignored: no id";
    }
    case "Like":
    case "EmojiReact":
      return undoLike(input, undone.object);
    case "Follow": {
      const target = await localAccountId(input, undone.object);
      if (!target) return "ignored: not a local account";
      await unfollow(context, { id: actor.id }, target);
      return "unfollowed";
    }
    case "Block": {
      const target = await localAccountId(input, undone.object);
      if (!target) return "ignored: not a local account";
      await unblock(context, { id: actor.id }, target);
      return "unblocked";
    }
    default:
      return "ignored: unsupported undo";
  }
}
