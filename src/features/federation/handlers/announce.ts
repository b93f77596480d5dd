/**
 * Announce → a boost by the remote actor (Mastodon's ActivityPub::Activity::Announce). The boosted status is
 * looked up by id, or fetched from its origin with a signed GET when we do not have it (an embedded copy is
 * not trusted: anyone can embed anything). Only public and unlisted statuses may be boosted, except by their
 * own author, and only boosts that concern us (the booster has local followers, or the post is ours). The
 * boost's uri is the Announce's id, which is what a later Undo names.
 */
import { publishEvent } from "../../events/publish";
import * as interactions from "../../interactions/store";
import type { Visibility } from "../../statuses/visibility";
import { FetchFailed } from "../fetch";
import { fetchRemoteStatus, objectId, visibilityOf } from "../remote-statuses";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

function audience(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((v) => (typeof v === "string" ? v : objectId(v))).filter((v): v is string => typeof v === "string");
}

export async function handleAnnounce({ context, activity, actor }: Inbound): Promise<Outcome> {
  const announceId = objectId(activity.id);
  const objectUri = objectId(activity.object);
  if (!announceId || !objectUri) return "ignored: no id or object";
  if (await inbound.statusByUri(context.sql, announceId)) return "duplicate";

  // Mastodon's related_to_local_activity? for boosts: someone here follows the booster, or the boosted post
  // is ours. Otherwise anyone could make us fetch and store whatever they like by boosting it at us.
  if (!(await inbound.hasLocalFollowers(context.sql, actor.id))) {
    const known = await inbound.statusByUri(context.sql, objectUri);
    if (!known?.local) return "ignored: unrelated to local accounts";
  }
  let originalId: string | undefined;
  try {
    originalId = await fetchRemoteStatus(context, objectUri);
  } catch (error) {
    // A boost of something gone (404, 410) or not ours to read is nothing to retry; network trouble is.
    if (error instanceof FetchFailed && !error.transient) return `ignored: ${error.message}`;
    throw error;
  }
  const original = originalId ? await inbound.liveStatusById(context.sql, originalId) : undefined;
  if (!original) return "ignored: object not available";
  if (original.reblog_of_id) return "ignored: a boost of a boost";
  const distributable = original.visibility === "public" || original.visibility === "unlisted";
  if (!distributable && original.account_id !== actor.id) return "ignored: not boostable";

  let visibility: Visibility = visibilityOf(audience(activity.to), audience(activity.cc), actor.uri);
  // A boost is never direct (Mastodon has no direct boosts); a private-looking one stays followers-only.
  if (visibility === "direct") visibility = "private";
  const published = typeof activity.published === "string" ? new Date(activity.published) : new Date();
  const publishedAt = Number.isNaN(published.getTime()) || published.getTime() > Date.now() ? new Date() : published;

  const reblogId = await context.sql.begin((tx) =>
    interactions.insertRemoteReblog(tx, { accountId: actor.id, originalId: original.id, visibility, uri: announceId, publishedAt }),
  );
  if (!reblogId) return "duplicate";
  await publishEvent(context, { type: "status.reblogged", statusId: reblogId, reblogOfId: original.id, accountId: actor.id });
  return "reblogged";
}
