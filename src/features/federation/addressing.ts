/**
 * Who an activity is addressed to (to / cc, as Mastodon's ActivityPub::TagManager writes them) and which
 * inboxes receive it (Mastodon's StatusReachFinder, simplified). Pure functions: the SQL that finds the
 * followers and the mentioned accounts lives in outbound-store.ts.
 *
 * bto / bcc are never written: Mastodon does not use them, and a peer that echoed them would leak who
 * received a post.
 */
import type { Visibility } from "../statuses/visibility";

export const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

export interface Addressing {
  to: string[];
  cc: string[];
}

/**
 * A post's to / cc by visibility:
 *   public    to Public,      cc followers + mentioned
 *   unlisted  to followers,   cc Public + mentioned
 *   private   to followers,   cc mentioned
 *   direct    to mentioned,   cc nothing
 * A boost also carries the boosted author in cc (Mastodon's TagManager#cc).
 */
export function addressStatus(visibility: Visibility, followersUrl: string, mentionedUris: string[], boostedAuthorUri?: string): Addressing {
  const mentioned = [...new Set(mentionedUris)];
  const cc: string[] = boostedAuthorUri ? [boostedAuthorUri] : [];
  switch (visibility) {
    case "public":
      return { to: [PUBLIC], cc: [...cc, followersUrl, ...mentioned] };
    case "unlisted":
      return { to: [followersUrl], cc: [...cc, PUBLIC, ...mentioned] };
    case "private":
      return { to: [followersUrl], cc: [...cc, ...mentioned] };
    case "direct":
      return { to: mentioned, cc };
  }
}

/** Where a status's Create / Update / Delete goes: followers unless direct, and every mentioned remote actor. */
export interface StatusReach {
  visibility: Visibility;
  followerInboxes: string[];
  mentionedInboxes: string[];
  /** Remote accounts that boosted it or that it replies to: they hold a copy (public / unlisted only). */
  otherInboxes?: string[];
}

export function statusInboxes(reach: StatusReach): string[] {
  const lists = [reach.mentionedInboxes];
  if (reach.visibility !== "direct") lists.push(reach.followerInboxes);
  if (reach.visibility === "public" || reach.visibility === "unlisted") lists.push(reach.otherInboxes ?? []);
  return dedupeInboxes(lists.flat());
}

/** The inbox to use for an account: its shared inbox when it has one (one POST per server), else its own. */
export function preferredInbox(account: { inbox_url: string | null; shared_inbox_url: string | null }): string | null {
  return account.shared_inbox_url || account.inbox_url || null;
}

/** Distinct, well-formed http(s) inbox URLs, in first-seen order. */
export function dedupeInboxes(inboxes: (string | null | undefined)[]): string[] {
  const seen = new Set<string>();
  for (const inbox of inboxes) {
    if (!inbox) continue;
    let url: URL;
    try {
      url = new URL(inbox);
    } catch {
      continue;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") continue;
    seen.add(url.href);
  }
  return [...seen];
}
