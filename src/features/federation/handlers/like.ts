/**
 * Like, EmojiReact and Misskey's Like with `_misskey_reaction` → a favourite of a local status by the remote
 * actor, which notifies the author (Mastodon's ActivityPub::Activity::Like: only local statuses, and only
 * what the actor may see). An emoji reaction counts as a favourite, as Mastodon shows them.
 */
import { publishEvent } from "../../events/publish";
import { isBlockedEitherWay } from "../../graph/service";
import * as interactions from "../../interactions/store";
import * as statuses from "../../statuses/store";
import type { AppContext } from "../../../infra/context";
import { objectId } from "../remote-statuses";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

/** A local, live status the actor may see, named by the activity's object. */
export async function likedStatus(context: AppContext, object: unknown, actorId: string) {
  const uri = objectId(object);
  if (!uri) return undefined;
  const status = await inbound.statusByUri(context.sql, uri);
  if (!status || !status.local || status.deleted_at) return undefined;
  const [visible] = await statuses.findVisible(context.sql, actorId, [status.id]);
  return visible ? status : undefined;
}

export async function handleLike({ context, activity, actor }: Inbound): Promise<Outcome> {
  const status = await likedStatus(context, activity.object, actor.id);
  if (!status) return "ignored: not a local status the actor may see";
  if (status.reblog_of_id) return "ignored: a boost";
  if (await isBlockedEitherWay(context.sql, actor.id, status.account_id)) return "ignored: blocked";
  const created = await context.sql.begin((tx) => interactions.insertMark(tx, "favourites", actor.id, status.id));
  if (!created) return "duplicate";
  await publishEvent(context, { type: "status.favourited", statusId: status.id, accountId: actor.id });
  return "favourited";
}
