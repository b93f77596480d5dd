/**
 * Move → the actor's local followers follow its new account instead (Mastodon's
 * ActivityPub::Activity::Move + MoveWorker). The actor moves itself only (object = actor), and the new
 * account must name the old one in its alsoKnownAs (fetched from its origin, not taken from the activity):
 * without that alias anyone could steal followers. Following the new account goes through the graph service,
 * so it is a request (a Follow delivered to the new server) like any follow of a remote account.
 *
 * The old account is marked as moved (accounts.moved_to_account_id, migration 0023) before its followers
 * move, so the API shows `moved` on it (api/entities/account.ts) even when no local account followed it.
 * Moving a local account away is out of scope.
 */
import { log } from "../../../infra/log";
import { follow, unfollow } from "../../graph/service";
import { fetchActivityJson } from "../fetch";
import { fetchRemoteActor } from "../remote-accounts";
import { objectId } from "../remote-statuses";
import { setMovedTo } from "../store";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

/** Mastodon moves followers in batches from a job; a local instance's followers of one account fit here. */
const MAX_FOLLOWERS_MOVED = 10_000;

export async function handleMove({ context, activity, actor }: Inbound): Promise<Outcome> {
  if (objectId(activity.object) !== actor.uri) return "ignored: an actor moves only itself";
  const targetUri = objectId(activity.target);
  if (!targetUri || targetUri === actor.uri) return "ignored: no target";
  const fetched = await fetchActivityJson(context, targetUri);
  const aliases = (Array.isArray(fetched.json.alsoKnownAs) ? fetched.json.alsoKnownAs : [fetched.json.alsoKnownAs]).map((a) => objectId(a));
  if (!aliases.includes(actor.uri)) return "ignored: the new account does not name the old one as an alias";
  const target = await fetchRemoteActor(context, targetUri);
  await setMovedTo(context.sql, actor.id, target.id);
  let moved = 0;
  for (const followerId of await inbound.localFollowersOf(context.sql, actor.id, MAX_FOLLOWERS_MOVED)) {
    try {
      await follow(context, { id: followerId }, { id: target.id, locked: target.locked, suspended_at: target.suspended_at, domain: target.domain }, {});
      await unfollow(context, { id: followerId }, actor.id);
      moved++;
    } catch (error) {
      // Blocked either way, or the target is suspended: that follower stays where it was.
      log.info("a follower could not move", { followerId, target: target.uri, error: (error as Error).message });
    }
  }
  return `moved ${moved}`;
}
