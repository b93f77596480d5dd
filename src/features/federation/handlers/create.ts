/**
 * Create(Note | Question | Article | Page) → a status by the remote actor (Mastodon's
 * ActivityPub::Activity::Create).
 *
 * Guards: the object's author is the actor and its id lives on the actor's host (nobody posts in someone
 * else's name); the object must concern us (Mastodon's related_to_local_activity?: a local account follows
 * the author, or is addressed or mentioned, or it replies to a status we have) — otherwise anyone could fill
 * our database by posting at the shared inbox. A Create whose object is only a URI is fetched from its origin.
 */
import { log } from "../../../infra/log";
import * as statuses from "../../statuses/store";
import type { AppContext } from "../../../infra/context";
import { fetchActivityJson } from "../fetch";
import { fetchRemoteStatus, NOTE_TYPES, objectId, parseNote, sameHost, storeFetchedStatus, storeRemoteNote, typeOf, type ParsedNote } from "../remote-statuses";
import { isPollVote, receivePollVote } from "../poll-votes";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

// "Followed by a local account?" is asked for every post and rarely changes: a yes is remembered for a few
// seconds per process. A post arriving just after the last local follower left is then stored, as it would
// have been a moment earlier; no feed gets it (fan-out reads the follows). A no is always asked again.
const FOLLOWED_MEMORY_MS = 10_000;
const followed = new Map<string, number>();

async function hasLocalFollowers(context: AppContext, actorId: string): Promise<boolean> {
  const at = followed.get(actorId);
  if (at !== undefined && Date.now() - at < FOLLOWED_MEMORY_MS) return true;
  if (!(await inbound.hasLocalFollowers(context.sql, actorId))) return false;
  if (followed.size >= 50_000) followed.clear();
  followed.set(actorId, Date.now());
  return true;
}

async function concernsUs(context: AppContext, actorId: string, note: ParsedNote): Promise<boolean> {
  if (await hasLocalFollowers(context, actorId)) return true;
  if ((await inbound.localAccountsByUris(context.sql, [...new Set([...note.mentions, ...note.audience])])).length > 0) return true;
  if (note.inReplyTo && (await inbound.statusByUri(context.sql, note.inReplyTo))) return true;
  return false;
}

export async function handleCreate({ context, activity, actor }: Inbound): Promise<Outcome> {
  const object = activity.object;
  if (typeof object === "string") {
    // Only a reference: the origin's copy is the truth (and must be the actor's, checked by the fetch).
    const uri = objectId(object);
    if (!uri || !sameHost(uri, actor.uri)) return "ignored: object not on the actor's host";
    if (await inbound.statusByUri(context.sql, uri)) return "duplicate";
    const fetched = await fetchActivityJson(context, uri);
    const fetchedNote = parseNote(fetched.json);
    if (!fetchedNote || fetchedNote.attributedTo !== actor.uri) return "ignored: not the actor's status";
    if (!(await concernsUs(context, actor.id, fetchedNote))) return "ignored: unrelated to local accounts";
    const id = await storeFetchedStatus(context, uri, fetched);
    return id ? "created" : "ignored: not a status";
  }
  // A vote on one of our polls looks like a Note with a name and no content: count it, store no status.
  if (typeof object === "object" && object !== null && isPollVote(object as Record<string, unknown>)) {
    if ((object as Record<string, unknown>).attributedTo !== actor.uri) return "ignored: vote not the actor's";
    return receivePollVote(context, actor.id, object as Record<string, unknown>);
  }
  if (!NOTE_TYPES.includes(typeOf(object))) return "ignored: unsupported object type";
  const note = parseNote(object as Record<string, unknown>);
  if (!note) return "ignored: invalid object";
  if (note.attributedTo !== actor.uri || !sameHost(note.uri, actor.uri)) return "ignored: object not the actor's";
  if (!(await concernsUs(context, actor.id, note))) return "ignored: unrelated to local accounts";
  const stored = await storeRemoteNote(context, actor, note);
  if (!stored) return "ignored: deleted";
  return stored.created ? "created" : "duplicate";
}

/** A reply stored without its parent: fetch the parent (which may queue its own), then link them. */
export async function linkParent(context: AppContext, statusId: string, parentUri: string, depth: number): Promise<void> {
  const parentId = await fetchRemoteStatus(context, parentUri, { depth });
  if (!parentId) {
    log.info("reply parent not available", { statusId, parentUri });
    return;
  }
  const parent = await inbound.liveStatusById(context.sql, parentId);
  if (!parent) return;
  await context.sql.begin(async (tx) => {
    const child = await statuses.findLiveForUpdate(tx, statusId);
    if (!child || child.in_reply_to_id) return;
    await statuses.setParent(tx, child.id, parent.id, parent.account_id, parent.conversation_id);
    if (child.visibility === "public" || child.visibility === "unlisted") await statuses.bumpRepliesCount(tx, parent.id, 1);
  });
}
