/**
 * Stream names as clients ask for them (`public:local`, `hashtag` + tag…) → the Redis channels that feed
 * them, the scopes they need, and whether per-connection filtering (blocks, mutes) applies. The rules and
 * error messages follow Mastodon's streaming server (channelNameToIds, checkScopes).
 */
import { announcementsChannel } from "../features/announcements/service";
import { covers } from "../features/auth/scopes";
import {
  channelName,
  directChannel,
  hashtagChannel,
  homeChannel,
  notificationsChannel,
} from "../features/streaming/channels";

export const STREAM_NAMES = [
  "user",
  "user:notification",
  "public",
  "public:media",
  "public:local",
  "public:local:media",
  "public:remote",
  "public:remote:media",
  "hashtag",
  "hashtag:local",
  "list",
  "direct",
] as const;

export interface StreamRequest {
  stream: string;
  tag?: string;
  list?: string;
}

export interface ResolvedStream {
  /** The `stream` array of every frame: ["public:local"], ["hashtag", "foo"]. */
  key: string[];
  channels: string[];
  /** Public and hashtag streams drop posts from accounts the reader blocks or mutes (home was filtered at fan-out). */
  filtered: boolean;
  /** A `list` stream: the owner's home channel, narrowed to the list (see lists.ts). */
  listId?: string;
}

export class StreamError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const READ_STATUSES = ["read", "read:statuses"];
const READ_NOTIFICATIONS = ["read", "read:notifications"];

function requireScopes(scopes: Set<string>, anyOf: string[]) {
  if (!anyOf.some((scope) => covers(scopes, scope))) throw new StreamError("Access token does not have the required scopes", 401);
}

/** Resolve a stream for a reader; throws StreamError with Mastodon's message and status. */
export function resolveStream(
  request: StreamRequest,
  reader: { accountId: string; scopes: Set<string> },
  namespace: string,
  /** Whether the reader owns this list, as loaded beforehand (ListGates.prepare); none means no list. */
  ownsList: (listId: string) => boolean = () => false,
): ResolvedStream {
  const { stream } = request;
  const { accountId, scopes } = reader;
  switch (stream) {
    case "user": {
      requireScopes(scopes, READ_STATUSES);
      const channels = [homeChannel(namespace, accountId)];
      // Notifications ride along on `user` only when the token may read them (as in Mastodon).
      if (READ_NOTIFICATIONS.some((scope) => covers(scopes, scope))) channels.push(notificationsChannel(namespace, accountId));
      // Announcements go to every `user` reader through one shared channel.
      channels.push(announcementsChannel(namespace));
      return { key: ["user"], channels, filtered: false };
    }
    case "user:notification":
      requireScopes(scopes, READ_NOTIFICATIONS);
      return { key: ["user:notification"], channels: [notificationsChannel(namespace, accountId)], filtered: false };
    case "public":
    case "public:media":
    case "public:local":
    case "public:local:media":
    case "public:remote":
    case "public:remote:media":
      requireScopes(scopes, READ_STATUSES);
      return { key: [stream], channels: [channelName(namespace, stream)], filtered: true };
    case "hashtag":
    case "hashtag:local": {
      requireScopes(scopes, READ_STATUSES);
      const tag = typeof request.tag === "string" ? request.tag.trim().replace(/^#/, "") : "";
      if (tag.length === 0) throw new StreamError("Missing tag name parameter", 400);
      if (tag.length > 256) throw new StreamError("Invalid tag name parameter", 400);
      return { key: [stream, request.tag!], channels: [hashtagChannel(namespace, tag.normalize("NFKC"), stream === "hashtag:local")], filtered: true };
    }
    case "list":
      requireScopes(scopes, ["read", "read:lists"]);
      if (!request.list) throw new StreamError("Missing list name parameter", 400);
      if (!ownsList(String(request.list))) throw new StreamError("Not authorized to stream this list", 401);
      return { key: ["list", String(request.list)], channels: [homeChannel(namespace, accountId)], filtered: false, listId: String(request.list) };
    case "direct":
      requireScopes(scopes, READ_STATUSES);
      return { key: ["direct"], channels: [directChannel(namespace, accountId)], filtered: false };
    default:
      throw new StreamError("Unknown stream type", 400);
  }
}

/** SSE paths (`/api/v1/streaming/public/local`) → stream names; `only_media` picks the media variant. */
export function streamFromPath(rest: string, onlyMedia: boolean): string | undefined {
  const name = rest.replace(/^\/+|\/+$/g, "").replaceAll("/", ":");
  if (!(STREAM_NAMES as readonly string[]).includes(name)) return undefined;
  if (onlyMedia && name.startsWith("public") && !name.endsWith(":media")) return `${name}:media`;
  return name;
}
