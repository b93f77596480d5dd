/**
 * Add / Remove on the actor's featured collection → its pinned statuses (Mastodon's
 * ActivityPub::Activity::{Add,Remove}). Only the actor's own collection (`<actor>/collections/featured`,
 * where Mastodon, GoToSocial and Akkoma put it) and only the actor's own statuses; an unknown status is
 * fetched from its origin first. Other targets (featured tags, anything else) are ignored.
 */
import * as interactions from "../../interactions/store";
import { fetchRemoteStatus, objectId } from "../remote-statuses";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

async function ownStatus({ context, activity, actor }: Inbound, fetch: boolean) {
  if (objectId(activity.target) !== `${actor.uri}/collections/featured`) return undefined;
  const uri = objectId(activity.object);
  if (!uri) return undefined;
  const id = fetch ? await fetchRemoteStatus(context, uri) : (await inbound.statusByUri(context.sql, uri))?.id;
  const status = id ? await inbound.liveStatusById(context.sql, id) : undefined;
  return status && status.account_id === actor.id && !status.reblog_of_id ? status : undefined;
}

export async function handleAdd(input: Inbound): Promise<Outcome> {
  const status = await ownStatus(input, true);
  if (!status) return "ignored: not the actor's featured collection or status";
  await interactions.insertPin(input.context.sql, input.actor.id, status.id);
  return "pinned";
}

export async function handleRemove(input: Inbound): Promise<Outcome> {
  const status = await ownStatus(input, false);
  if (!status) return "ignored: not the actor's featured collection or status";
  await interactions.deletePin(input.context.sql, input.actor.id, status.id);
  return "unpinned";
}
