/**
 * The social graph's rules: follow (direct, or a request when the target is locked), unfollow, follow requests
 * authorized or rejected, blocks (which cut follows and requests both ways), mutes with optional expiry,
 * user-level domain blocks, endorsements, private notes and followed tags. Each change is one transaction;
 * its domain events (account.followed, account.follow_requested, account.unfollowed, account.blocked) are
 * published after the commit.
 *
 * FEDERATION: a follow of a remote account is always a request (follow_requests, `requested: true`) whose
 * row carries the Follow id we send (`uri`); delivery (features/federation/delivery.ts) turns the events into
 * activities. For the inbox: a remote Follow → follow(remote, local, { uri: activity id }) (an unlocked
 * target accepts at once and the Accept goes out; a locked one waits for authorize/reject); an Accept of our
 * Follow → authorizeFollowRequest(context, remoteTarget, localRequesterId); a Reject →
 * rejectFollowRequest(context, remoteTarget, localRequesterId); an Undo(Follow) → unfollow(remote, localId).
 * Events whose acting account is remote are never delivered back out.
 *
 * FOR OTHER FEATURES (timelines, notifications…): `isBlockedEitherWay(sql, a, b)` and
 * `activeMuteIds(sql, accountId)` answer the two questions every filter asks; an expired mute is no mute.
 */
import type { AccountRow, AccountWithUser } from "../accounts/store";
import { publishEvent } from "../events/publish";
import type { DomainEvent } from "../events/types";
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import * as store from "./store";

export type { FollowOptions, RelationshipRow, CursorRow, TagRow, AccountStatusFilter, Page } from "./store";

type Actor = Pick<AccountRow, "id">;
type Target = Pick<AccountRow, "id" | "locked" | "suspended_at"> & { domain?: string | null };

/** Mastodon's note limit (AccountNote::COMMENT_SIZE_LIMIT). */
export const NOTE_MAX_LENGTH = 2000;
/** A mute longer than this many seconds is refused (about 68 years; keeps the timestamp sane). */
export const MAX_MUTE_SECONDS = 2 ** 31 - 1;

// ---- helpers for other features ----

/** True when either account blocks the other. */
export function isBlockedEitherWay(sql: Db, a: string, b: string): Promise<boolean> {
  return store.blockedEitherWay(sql, a, b);
}

/** The accounts `accountId` mutes right now (expired mutes left out). */
export function activeMuteIds(sql: Db, accountId: string): Promise<string[]> {
  return store.activeMuteTargets(sql, accountId);
}

export const followedTagIds = store.followedTagIds;

/** Pending requests to follow `accountId` (CredentialAccount.source.follow_requests_count). */
export function pendingFollowRequestCount(sql: Db, accountId: string): Promise<number> {
  return store.countFollowRequests(sql, accountId);
}

// Every transaction that changes follows between two accounts starts with store.lockPair, so two changes to
// the same pair (unfollow racing a block, follow racing a block) run one after the other, never interleaved.

async function publishAll(context: AppContext, events: DomainEvent[]): Promise<void> {
  for (const event of events) await publishEvent(context, event);
}

// ---- follows ----

/**
 * Follow `target`, or ask to when it is locked. Repeating a follow only changes the options given. Following
 * yourself or across a block is refused with 403, as Mastodon; a suspended target is 404.
 */
export async function follow(context: AppContext, actor: Actor, target: Target, options: store.FollowOptions): Promise<void> {
  if (actor.id === target.id) throw ApiError.forbidden("Following your own account is not allowed");
  if (target.suspended_at) throw ApiError.notFound();
  const events: DomainEvent[] = [];
  await context.sql.begin(async (tx) => {
    await store.lockPair(tx, actor.id, target.id);
    if (await store.blockedEitherWay(tx, actor.id, target.id)) throw ApiError.forbidden();
    if (await store.findFollow(tx, actor.id, target.id)) {
      await store.updateFollowOptions(tx, "follows", actor.id, target.id, options);
      return;
    }
    if (target.domain) {
      // A remote account answers with Accept or Reject (handled by the inbox, which turns this request into a
      // follow): until then the relationship shows `requested`. The Follow's id is fixed now, so the Accept
      // that comes back can be matched, and an Undo names the same activity.
      const existing = await store.findFollowRequest(tx, actor.id, target.id);
      if (existing) {
        await store.updateFollowOptions(tx, "follow_requests", actor.id, target.id, options);
        return;
      }
      const self = await store.accountPlace(tx, actor.id);
      const id = await store.newRowId(tx);
      if (self && (await store.insertFollowRequestWithId(tx, id, actor.id, target.id, { ...options, uri: `${self.uri}#follows/${id}` }))) {
        events.push({ type: "account.follow_requested", accountId: actor.id, targetAccountId: target.id });
      }
      return;
    }
    if (target.locked) {
      if (await store.insertFollowRequest(tx, actor.id, target.id, options)) {
        events.push({ type: "account.follow_requested", accountId: actor.id, targetAccountId: target.id });
      } else {
        await store.updateFollowOptions(tx, "follow_requests", actor.id, target.id, options);
      }
      return;
    }
    // An unlocked target accepts at once; a request left from when it was locked is answered by this follow.
    const request = await store.deleteFollowRequest(tx, actor.id, target.id);
    const merged = {
      showReblogs: options.showReblogs ?? request?.show_reblogs,
      notify: options.notify ?? request?.notify,
      languages: options.languages !== undefined ? options.languages : request?.languages,
      uri: options.uri ?? request?.uri,
    };
    if (await store.insertFollow(tx, actor.id, target.id, merged)) {
      await store.adjustFollowCounts(tx, actor.id, target.id, 1);
      events.push({ type: "account.followed", accountId: actor.id, targetAccountId: target.id });
    }
  });
  await publishAll(context, events);
}

/**
 * Stop following `targetId`, and withdraw a pending request. Nothing to undo is fine. `initiatedBy` is the
 * account whose action this is when it is not the follower (the target removing a follower): delivery sends
 * a Reject then, and an Undo(Follow) when the follower left.
 */
export async function unfollow(context: AppContext, actor: Actor, targetId: string, initiatedBy: string = actor.id): Promise<void> {
  const events: DomainEvent[] = [];
  await context.sql.begin(async (tx) => {
    await store.lockPair(tx, actor.id, targetId);
    const request = await store.deleteFollowRequest(tx, actor.id, targetId);
    const follow = await store.deleteFollow(tx, actor.id, targetId);
    if (follow) {
      await store.adjustFollowCounts(tx, actor.id, targetId, -1);
      events.push({ type: "account.unfollowed", accountId: actor.id, targetAccountId: targetId, followId: follow.id, followUri: follow.uri, initiatedBy });
    } else if (request && (await store.accountPlace(tx, targetId))?.domain) {
      // A request to a remote account is withdrawn with an Undo(Follow) as well (Mastodon's UnfollowService).
      events.push({ type: "account.unfollowed", accountId: actor.id, targetAccountId: targetId, followId: request.id, followUri: request.uri, initiatedBy });
    }
  });
  await publishAll(context, events);
}

/** Make `followerId` stop following `actor` (POST /accounts/:id/remove_from_followers). */
export async function removeFromFollowers(context: AppContext, actor: Actor, followerId: string): Promise<void> {
  await unfollow(context, { id: followerId }, actor.id, actor.id);
}

/** Accept `requesterId`'s request to follow `actor`: the request becomes a follow. 404 when there is none. */
export async function authorizeFollowRequest(context: AppContext, actor: Actor, requesterId: string): Promise<void> {
  const events: DomainEvent[] = [];
  await context.sql.begin(async (tx) => {
    await store.lockPair(tx, requesterId, actor.id);
    const request = await store.deleteFollowRequest(tx, requesterId, actor.id);
    if (!request) throw ApiError.notFound();
    const options = { showReblogs: request.show_reblogs, notify: request.notify, languages: request.languages, uri: request.uri };
    if (await store.insertFollow(tx, requesterId, actor.id, options)) {
      await store.adjustFollowCounts(tx, requesterId, actor.id, 1);
      events.push({ type: "account.followed", accountId: requesterId, targetAccountId: actor.id });
    }
  });
  await publishAll(context, events);
}

/** Turn `requesterId`'s request down. 404 when there is none. */
export async function rejectFollowRequest(context: AppContext, actor: Actor, requesterId: string): Promise<void> {
  const request = await store.deleteFollowRequest(context.sql, requesterId, actor.id);
  if (!request) throw ApiError.notFound();
  await publishEvent(context, { type: "account.follow_rejected", accountId: requesterId, targetAccountId: actor.id, followId: request.id, followUri: request.uri });
}

// ---- blocks and mutes ----

/** Block `targetId`: follows and follow requests between the two go, both ways, in the same transaction. */
export async function block(context: AppContext, actor: Actor, targetId: string): Promise<void> {
  if (actor.id === targetId) throw ApiError.forbidden();
  const events: DomainEvent[] = [];
  await context.sql.begin(async (tx) => {
    await store.lockPair(tx, actor.id, targetId);
    const created = await store.insertBlock(tx, actor.id, targetId);
    for (const [from, to] of [[actor.id, targetId], [targetId, actor.id]] as const) {
      const request = await store.deleteFollowRequest(tx, from, to);
      const follow = await store.deleteFollow(tx, from, to);
      if (follow) {
        await store.adjustFollowCounts(tx, from, to, -1);
        events.push({ type: "account.unfollowed", accountId: from, targetAccountId: to, followId: follow.id, followUri: follow.uri, initiatedBy: actor.id });
      } else if (request && from === actor.id) {
        // The blocker's own pending request is withdrawn (an Undo(Follow) for a remote target).
        events.push({ type: "account.unfollowed", accountId: from, targetAccountId: to, followId: request.id, followUri: request.uri, initiatedBy: actor.id });
      } else if (request && from === targetId) {
        // A pending request to the blocker is turned down (a Reject for a remote requester).
        events.push({ type: "account.follow_rejected", accountId: from, targetAccountId: to, followId: request.id, followUri: request.uri });
      }
    }
    // An endorsement of someone you block makes no sense (and endorsing needs a follow, which is gone).
    await store.deletePin(tx, actor.id, targetId);
    if (created) events.push({ type: "account.blocked", accountId: actor.id, targetAccountId: targetId });
  });
  await publishAll(context, events);
}

export async function unblock(context: AppContext, actor: Actor, targetId: string): Promise<void> {
  const blockId = await store.deleteBlock(context.sql, actor.id, targetId);
  if (blockId) await publishEvent(context, { type: "account.unblocked", accountId: actor.id, targetAccountId: targetId, blockId });
}

/** Mute `targetId`; `durationSeconds` 0 means until unmuted. A repeated mute replaces the options. */
export async function mute(context: AppContext, actor: Actor, targetId: string, options: { notifications: boolean; durationSeconds: number }): Promise<void> {
  if (actor.id === targetId) throw ApiError.forbidden();
  const expiresAt = options.durationSeconds > 0 ? new Date(Date.now() + options.durationSeconds * 1000) : null;
  await store.upsertMute(context.sql, actor.id, targetId, options.notifications, expiresAt);
  // Open streams stop showing the muted account at once (src/features/streaming/jobs.ts).
  await publishEvent(context, { type: "account.muted", accountId: actor.id, targetAccountId: targetId });
}

export async function unmute(context: AppContext, actor: Actor, targetId: string): Promise<void> {
  await store.deleteMute(context.sql, actor.id, targetId);
  // Home fan-out skipped the actor while muting: the posts it missed are merged back (Mastodon's UnmuteService).
  await publishEvent(context, { type: "account.unmuted", accountId: actor.id, targetAccountId: targetId });
}

/**
 * A user-level domain block: a lower-cased host name (IDN kept as punycode by URL parsing). Returns undefined
 * for something that is not a host name, so the edge can answer 422.
 */
export function normalizeDomain(input: string): string | undefined {
  const trimmed = input.trim().replace(/^https?:\/\//i, "").replace(/\/.*$/, "");
  if (trimmed === "" || trimmed.length > 253) return undefined;
  try {
    const host = new URL(`https://${trimmed}/`).hostname;
    const labels = host.split(".");
    return labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) ? host : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Block a whole domain for one user: besides hiding it, follows to and from accounts there end (Mastodon's
 * AfterBlockDomainFromAccountService): the user's follows are undone, that domain's followers are removed
 * (a Reject tells their server), and pending requests both ways are dropped.
 */
export async function blockDomain(context: AppContext, actor: Actor, domain: string): Promise<void> {
  const events: DomainEvent[] = [];
  await context.sql.begin(async (tx) => {
    await store.insertDomainBlock(tx, actor.id, domain);
    events.push({ type: "account.domain_blocked", accountId: actor.id, domain });
    const follows = await store.followsWithDomain(tx, actor.id, domain);
    const requests = await store.followRequestsWithDomain(tx, actor.id, domain);
    for (const follow of follows) {
      await store.lockPair(tx, follow.account_id, follow.target_account_id);
      if (!(await store.deleteFollow(tx, follow.account_id, follow.target_account_id))) continue;
      await store.adjustFollowCounts(tx, follow.account_id, follow.target_account_id, -1);
      events.push({
        type: "account.unfollowed",
        accountId: follow.account_id,
        targetAccountId: follow.target_account_id,
        followId: follow.id,
        followUri: follow.uri,
        initiatedBy: actor.id,
      });
    }
    for (const request of requests) {
      if (!(await store.deleteFollowRequest(tx, request.account_id, request.target_account_id))) continue;
      events.push(
        request.account_id === actor.id
          ? { type: "account.unfollowed", accountId: actor.id, targetAccountId: request.target_account_id, followId: request.id, followUri: request.uri, initiatedBy: actor.id }
          : { type: "account.follow_rejected", accountId: request.account_id, targetAccountId: actor.id, followId: request.id, followUri: request.uri },
      );
    }
  });
  await publishAll(context, events);
}

export async function unblockDomain(context: AppContext, actor: Actor, domain: string): Promise<void> {
  await store.deleteDomainBlock(context.sql, actor.id, domain);
  await publishEvent(context, { type: "account.domain_unblocked", accountId: actor.id, domain });
}

// ---- endorsements and notes ----

/** Endorse (feature on your profile) an account you follow; 422 otherwise, as Mastodon. */
export async function endorse(context: AppContext, actor: Actor, targetId: string): Promise<void> {
  await context.sql.begin(async (tx) => {
    if (!(await store.findFollow(tx, actor.id, targetId))) {
      throw ApiError.unprocessable("Validation failed: You must be already following the person you want to endorse");
    }
    await store.insertPin(tx, actor.id, targetId);
  });
}

export async function unendorse(context: AppContext, actor: Actor, targetId: string): Promise<void> {
  await store.deletePin(context.sql, actor.id, targetId);
}

/** Set (or, with "", clear) the private note on `targetId`. */
export async function setNote(context: AppContext, actor: Actor, targetId: string, comment: string): Promise<void> {
  if ([...comment].length > NOTE_MAX_LENGTH) throw ApiError.unprocessable(`Validation failed: Comment is too long (maximum is ${NOTE_MAX_LENGTH} characters)`);
  await store.setNote(context.sql, actor.id, targetId, comment);
}

// ---- reading ----

export function relationships(sql: Db, viewer: Actor, targetIds: string[]): Promise<store.RelationshipRow[]> {
  return store.relationships(sql, viewer.id, targetIds);
}

/** Per target id, the ids of accounts the viewer follows that follow it. */
export async function familiarFollowers(sql: Db, viewer: Actor, targetIds: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>(targetIds.map((id) => [id, []]));
  for (const row of await store.familiarFollowers(sql, viewer.id, targetIds)) result.get(row.target)?.push(row.account);
  return result;
}

/**
 * Whether `viewer` may see whom `account` follows and is followed by: not when the account hides them
 * (hide_collections) or blocks the viewer; the owner always may (Mastodon's hide_results?).
 */
export async function collectionsVisible(sql: Db, viewer: Actor | undefined, account: Pick<AccountWithUser, "id" | "hide_collections">): Promise<boolean> {
  if (viewer?.id === account.id) return true;
  if (account.hide_collections) return false;
  if (viewer && (await store.blocks(sql, account.id, viewer.id))) return false;
  return true;
}

export const followerRows = store.followerRows;
export const followingRows = store.followingRows;
export const followRequestRows = store.followRequestRows;
export const blockRows = store.blockRows;
export const muteRows = store.muteRows;
export const pinRows = store.pinRows;
export const domainBlockRows = store.domainBlockRows;
export const domainFollowCounts = store.domainFollowCounts;
export const followedTagRows = store.followedTagRows;
export const accountStatusIds = store.accountStatusIds;

// ---- tags ----

const TAG_NAME = /^[\p{L}\p{M}\p{N}_][\p{L}\p{M}\p{N}_\u00b7\u200c]*$/u;

/** "#Woolly" → { name: "woolly", displayName: "Woolly" }; undefined when it cannot be a hashtag. */
export function normalizeTagName(input: string): { name: string; displayName: string } | undefined {
  const displayName = input.trim().replace(/^#/, "").normalize("NFKC");
  if (displayName === "" || [...displayName].length > 255 || !TAG_NAME.test(displayName)) return undefined;
  return { name: displayName.toLowerCase(), displayName };
}

export async function findTag(sql: Db, input: string): Promise<store.TagRow | undefined> {
  const normal = normalizeTagName(input);
  return normal ? store.findTag(sql, normal.name) : undefined;
}

/** Follow a hashtag, creating its row when nobody has used it yet. */
export async function followTag(context: AppContext, actor: Actor, input: string): Promise<store.TagRow> {
  const normal = normalizeTagName(input);
  if (!normal) throw ApiError.notFound();
  return context.sql.begin(async (tx) => {
    const tag = await store.findOrCreateTag(tx, normal.name, normal.displayName);
    await store.insertTagFollow(tx, actor.id, tag.id);
    return tag;
  });
}

export async function unfollowTag(context: AppContext, actor: Actor, input: string): Promise<store.TagRow> {
  const tag = await findTag(context.sql, input);
  if (!tag) throw ApiError.notFound();
  await store.deleteTagFollow(context.sql, actor.id, tag.id);
  return tag;
}

export function followsTag(sql: Db, actor: Actor, tagId: string): Promise<boolean> {
  return store.followsTag(sql, actor.id, tagId);
}

/** The pending follow request a remote Accept / Reject names by our Follow's id (federation inbound). */
export function findFollowRequestByUri(sql: Db, uri: string): Promise<store.FollowRow | undefined> {
  return store.findFollowRequestByUri(sql, uri);
}
