/**
 * ActivityStreams JSON for what our local accounts say and do, as Mastodon writes it (NoteSerializer,
 * ActivitySerializer, and the Follow/Accept/Reject/Block/Like/Undo/Delete serializers), so that Mastodon,
 * GoToSocial, Misskey, Pleroma and Fedify-based servers take it as they take Mastodon's. Pure functions:
 * the caller loads the rows (outbound-store.ts) and decides where the result goes (addressing.ts).
 *
 * Activity ids follow Mastodon's scheme so that an Undo names exactly the activity it undoes:
 *   Create  <status uri>/activity            Update  <status uri>#updates/<edited at, unix seconds>
 *   Delete  <status uri>#delete              Announce <boost uri>/activity
 *   Like    <actor uri>#likes/<id>           Follow  <follow request uri> (stored on the request)
 *   Accept  <target uri>#accepts/follows/<id> Block   <actor uri>#blocks/<id>
 *   Undo    <undone id>/undo
 */
import type { Visibility } from "../statuses/visibility";
import { addressStatus, PUBLIC } from "./addressing";

export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** Mastodon's context for statuses: the AS vocabulary plus the extension terms a Note uses. */
export const NOTE_CONTEXT = [
  AS_CONTEXT,
  {
    ostatus: "http://ostatus.org#",
    atomUri: "ostatus:atomUri",
    inReplyToAtomUri: "ostatus:inReplyToAtomUri",
    conversation: "ostatus:conversation",
    sensitive: "as:sensitive",
    toot: "http://joinmastodon.org/ns#",
    votersCount: "toot:votersCount",
    blurhash: "toot:blurhash",
    focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
    Hashtag: "as:Hashtag",
    Emoji: "toot:Emoji",
  },
];

export interface NoteAuthor {
  uri: string;
  username: string;
}

export interface NoteMedia {
  url: string;
  mediaType: string;
  description: string | null;
  blurhash: string | null;
  focus: { x: number; y: number } | null;
  width?: number;
  height?: number;
}

export interface NotePoll {
  options: string[];
  tallies: number[];
  multiple: boolean;
  expiresAt: Date | null;
  votersCount: number;
}

export interface NoteInput {
  id: string;
  uri: string;
  url: string | null;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: Visibility;
  language: string | null;
  createdAt: Date;
  editedAt: Date | null;
  inReplyToUri: string | null;
  conversationId: string | null;
  conversationUri: string | null;
  author: NoteAuthor;
  /** Mentioned accounts: actor URI and acct ("bob" for local, "bob@example.com" for remote). */
  mentions: { uri: string; acct: string }[];
  tags: string[];
  /** Emoji tags of the local custom emojis the text uses (custom-emojis/service.ts renderEmojiTag). */
  emojiTags?: Record<string, unknown>[];
  media: NoteMedia[];
  poll?: NotePoll;
  repliesCount: number;
}

export interface ActivityConfig {
  baseUrl: string;
  localDomain: string;
}

/** Seconds precision with a Z, as Mastodon's iso8601 timestamps. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function followersUrl(actorUri: string): string {
  return `${actorUri}/followers`;
}

/** Mastodon's ostatus conversation tag for conversations started here. */
function conversationTag(config: ActivityConfig, note: NoteInput): string | null {
  if (note.conversationUri) return note.conversationUri;
  if (!note.conversationId) return null;
  const host = config.localDomain.replace(/:\d+$/, "");
  return `tag:${host},${note.createdAt.getUTCFullYear()}-${String(note.createdAt.getUTCMonth() + 1).padStart(2, "0")}-${String(note.createdAt.getUTCDate()).padStart(2, "0")}:objectId=${note.conversationId}:objectType=Conversation`;
}

function renderAttachment(media: NoteMedia): Record<string, unknown> {
  return {
    type: "Document",
    mediaType: media.mediaType,
    url: media.url,
    name: media.description,
    blurhash: media.blurhash,
    ...(media.focus && { focalPoint: [media.focus.x, media.focus.y] }),
    ...(media.width && { width: media.width }),
    ...(media.height && { height: media.height }),
  };
}

/** The object of a status: a Note, or a Question when it carries a poll. Without @context (see withContext). */
export function renderNoteObject(config: ActivityConfig, note: NoteInput): Record<string, unknown> {
  const addressing = addressStatus(
    note.visibility,
    followersUrl(note.author.uri),
    note.mentions.map((m) => m.uri),
  );
  const tag = [
    ...note.mentions.map((m) => ({ type: "Mention", href: m.uri, name: `@${m.acct}` })),
    ...note.tags.map((name) => ({ type: "Hashtag", href: `${config.baseUrl}/tags/${encodeURIComponent(name)}`, name: `#${name}` })),
    ...(note.emojiTags ?? []),
  ];
  const repliesId = `${note.uri}/replies`;
  const object: Record<string, unknown> = {
    id: note.uri,
    type: note.poll ? "Question" : "Note",
    summary: note.spoilerText === "" ? null : note.spoilerText,
    inReplyTo: note.inReplyToUri,
    published: isoSeconds(note.createdAt),
    ...(note.editedAt && { updated: isoSeconds(note.editedAt) }),
    url: note.url ?? note.uri,
    attributedTo: note.author.uri,
    to: addressing.to,
    cc: addressing.cc,
    sensitive: note.sensitive,
    atomUri: note.uri,
    inReplyToAtomUri: note.inReplyToUri,
    conversation: conversationTag(config, note),
    content: note.content,
    ...(note.language && { contentMap: { [note.language]: note.content } }),
    attachment: note.media.map(renderAttachment),
    tag,
    replies: {
      id: repliesId,
      type: "Collection",
      first: { type: "CollectionPage", next: `${repliesId}?only_other_accounts=true&page=true`, partOf: repliesId, items: [] },
    },
  };
  if (note.poll) {
    const choices = note.poll.options.map((name, i) => ({
      type: "Note",
      name,
      replies: { type: "Collection", totalItems: note.poll!.tallies[i] ?? 0 },
    }));
    object[note.poll.multiple ? "anyOf" : "oneOf"] = choices;
    if (note.poll.expiresAt) {
      object.endTime = isoSeconds(note.poll.expiresAt);
      if (note.poll.expiresAt.getTime() <= Date.now()) object.closed = isoSeconds(note.poll.expiresAt);
    }
    object.votersCount = note.poll.votersCount;
  }
  return object;
}

export function withContext(context: unknown, object: Record<string, unknown>): Record<string, unknown> {
  return { "@context": context, ...object };
}

export function renderNote(config: ActivityConfig, note: NoteInput): Record<string, unknown> {
  return withContext(NOTE_CONTEXT, renderNoteObject(config, note));
}

/** Create(Note): the activity a new post travels in. Same addressing as its object. */
export function createActivity(config: ActivityConfig, note: NoteInput): Record<string, unknown> {
  const object = renderNoteObject(config, note);
  return withContext(NOTE_CONTEXT, {
    id: `${note.uri}/activity`,
    type: "Create",
    actor: note.author.uri,
    published: object.published,
    to: object.to,
    cc: object.cc,
    object,
  });
}

/** Update(Note): an edit. The id names the edit's time so each edit is a distinct activity. */
export function updateActivity(config: ActivityConfig, note: NoteInput): Record<string, unknown> {
  const object = renderNoteObject(config, note);
  const at = note.editedAt ?? note.createdAt;
  return withContext(NOTE_CONTEXT, {
    id: `${note.uri}#updates/${Math.floor(at.getTime() / 1000)}`,
    type: "Update",
    actor: note.author.uri,
    published: isoSeconds(at),
    to: object.to,
    cc: object.cc,
    object,
  });
}

/** Delete(Tombstone): addressed like the post was, so it reaches everyone who got it. */
export function deleteActivity(statusUri: string, actorUri: string, addressing: { to: string[]; cc: string[] }): Record<string, unknown> {
  return withContext(NOTE_CONTEXT, {
    id: `${statusUri}#delete`,
    type: "Delete",
    actor: actorUri,
    to: addressing.to,
    cc: addressing.cc,
    object: { id: statusUri, type: "Tombstone", atomUri: statusUri },
  });
}

export interface BoostInput {
  uri: string;
  visibility: Visibility;
  createdAt: Date;
  actorUri: string;
  originalUri: string;
  originalAuthorUri: string;
}

/** Announce: a boost. Public boosts of public posts, unlisted otherwise (Mastodon's rules). */
export function announceActivity(boost: BoostInput): Record<string, unknown> {
  const addressing = addressStatus(boost.visibility, followersUrl(boost.actorUri), [], boost.originalAuthorUri);
  return {
    "@context": AS_CONTEXT,
    id: `${boost.uri}/activity`,
    type: "Announce",
    actor: boost.actorUri,
    published: isoSeconds(boost.createdAt),
    to: addressing.to,
    cc: addressing.cc,
    object: boost.originalUri,
  };
}

export function undoActivity(actorUri: string, undone: Record<string, unknown>, addressing?: { to: string[]; cc?: string[] }): Record<string, unknown> {
  const { "@context": _ignored, ...object } = undone;
  return {
    "@context": AS_CONTEXT,
    id: `${String(undone.id)}/undo`,
    type: "Undo",
    actor: actorUri,
    ...(addressing && { to: addressing.to, ...(addressing.cc && { cc: addressing.cc }) }),
    object,
  };
}

export function likeActivity(actorUri: string, favouriteId: string, statusUri: string): Record<string, unknown> {
  return { "@context": AS_CONTEXT, id: `${actorUri}#likes/${favouriteId}`, type: "Like", actor: actorUri, object: statusUri };
}

export function followActivity(followUri: string, actorUri: string, targetUri: string): Record<string, unknown> {
  return { "@context": AS_CONTEXT, id: followUri, type: "Follow", actor: actorUri, object: targetUri };
}

/** Accept or Reject of a remote actor's Follow, embedding the Follow as Mastodon does. */
export function answerFollowActivity(
  kind: "Accept" | "Reject",
  follow: { id: string; uri: string | null; followerUri: string; targetUri: string },
): Record<string, unknown> {
  const followUri = follow.uri ?? `${follow.followerUri}#follows/${follow.id}`;
  return {
    "@context": AS_CONTEXT,
    id: `${follow.targetUri}#${kind === "Accept" ? "accepts" : "rejects"}/follows/${follow.id}`,
    type: kind,
    actor: follow.targetUri,
    object: { id: followUri, type: "Follow", actor: follow.followerUri, object: follow.targetUri },
  };
}

export function blockActivity(actorUri: string, blockId: string, targetUri: string): Record<string, unknown> {
  return { "@context": AS_CONTEXT, id: `${actorUri}#blocks/${blockId}`, type: "Block", actor: actorUri, object: targetUri };
}

/** Update(Person): a profile change, addressed to the public (Mastodon's UpdateSerializer). */
export function updateActorActivity(person: Record<string, unknown>, now = new Date()): Record<string, unknown> {
  const { "@context": context, ...object } = person;
  return {
    "@context": context,
    id: `${String(person.id)}#updates/${Math.floor(now.getTime() / 1000)}`,
    type: "Update",
    actor: person.id,
    to: [PUBLIC],
    object,
  };
}

/** Delete(Person): an account that is gone. */
export function deleteActorActivity(actorUri: string): Record<string, unknown> {
  return { "@context": AS_CONTEXT, id: `${actorUri}#delete`, type: "Delete", actor: actorUri, to: [PUBLIC], object: actorUri };
}
