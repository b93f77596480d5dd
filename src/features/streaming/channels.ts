/**
 * The Redis pub/sub contract between publishers (jobs in this folder) and the streaming role
 * (src/streaming). Channel names follow Mastodon's (`timeline:public:local`, `timeline:<accountId>`…),
 * prefixed with REDIS_NAMESPACE so several instances (or test runs) can share one Redis.
 *
 * Messages carry ids, not rendered entities: what a status looks like depends on who reads it, so the
 * streaming role renders once per status (or per reader where it must) when a message arrives.
 */
export type StreamMessage =
  /** `ref`: the domain event's id, the same on every channel one publish reaches: the render is shared by it. */
  | { event: "update" | "status.update" | "conversation"; statusId: string; ref?: string }
  | { event: "delete"; statusId: string }
  | { event: "notification"; notificationId: string }
  /**
   * Internal (system channel): the account's blocks, mutes or domain blocks changed. `change` is applied to
   * the cached relations as the message arrives, before any later message on the same connection is handled,
   * so a post published after the change is filtered by it; the cache then reloads from the database.
   */
  | { event: "relations_changed"; change?: RelationChange }
  /** Internal (system channel): end the account's connections (Mastodon's `kill`). */
  | { event: "kill" };

/** One side's view of a relation change: `set` is which cached set (see src/streaming/relations.ts). */
export interface RelationChange {
  set: "blocking" | "blockedBy" | "muting" | "domains";
  /** An account id, or a lower-cased domain for `domains`. */
  value: string;
  on: boolean;
}

export function channelPrefix(namespace: string): string {
  return `${namespace ? `${namespace}:` : ""}timeline:`;
}

/** `timeline:<name>` in the namespace, e.g. channelName(ns, "public:local"), channelName(ns, `${id}:notifications`). */
export function channelName(namespace: string, name: string): string {
  return channelPrefix(namespace) + name;
}

export const homeChannel = (ns: string, accountId: string) => channelName(ns, accountId);
export const notificationsChannel = (ns: string, accountId: string) => channelName(ns, `${accountId}:notifications`);
export const directChannel = (ns: string, accountId: string) => channelName(ns, `direct:${accountId}`);
export const systemChannel = (ns: string, accountId: string) => channelName(ns, `system:${accountId}`);
export const hashtagChannel = (ns: string, tag: string, local: boolean) => channelName(ns, `hashtag:${tag.toLowerCase()}${local ? ":local" : ""}`);

/** The public channels a public, non-boost status goes to (Mastodon's FanOutOnWriteService#deliver_to_public!). */
export function publicChannelNames(local: boolean, hasMedia: boolean): string[] {
  const where = local ? "local" : "remote";
  const names = ["public", `public:${where}`];
  if (hasMedia) names.push("public:media", `public:${where}:media`);
  return names;
}
