/**
 * Notifications: the rules deciding whether an event notifies someone (Mastodon's NotifyService), the
 * notification policy (accept / filter / drop per kind of stranger), group keys for v2 grouping, and the
 * reads behind the API. Creating is idempotent (one notification per cause), so subscriber jobs may rerun.
 */
import type { AppContext } from "../../infra/context";
import type { Db, Sql } from "../../infra/db";
import { publishEvent } from "../events/publish";
import { log } from "../../infra/log";
import { homeChannel, systemChannel } from "../streaming/channels";
import * as store from "./store";

export type { GroupRow, ListFilter, NotificationRow, NotificationType, RequestRow } from "./store";
export { NOTIFICATION_TYPES } from "./store";

// ---- policy ----

export type PolicyAction = "accept" | "filter" | "drop";
export const POLICY_KEYS = ["for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions", "for_limited_accounts"] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];
export type Policy = Record<PolicyKey, PolicyAction>;

/** Mastodon's defaults: strangers' private mentions and limited accounts are filtered, the rest accepted. */
export const DEFAULT_POLICY: Policy = {
  for_not_following: "accept",
  for_not_followers: "accept",
  for_new_accounts: "accept",
  for_private_mentions: "filter",
  for_limited_accounts: "filter",
};

function toPolicy(stored: Record<string, unknown> | null): Policy {
  const policy = { ...DEFAULT_POLICY };
  for (const key of POLICY_KEYS) {
    const value = stored?.[key];
    if (value === "accept" || value === "filter" || value === "drop") policy[key] = value;
  }
  return policy;
}

export async function getPolicy(sql: Db, accountId: string): Promise<Policy> {
  return toPolicy(await store.readPolicy(sql, accountId));
}

export async function updatePolicy(sql: Db, accountId: string, changes: Partial<Policy>): Promise<Policy> {
  const policy = { ...(await getPolicy(sql, accountId)), ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) } as Policy;
  await store.writePolicy(sql, accountId, policy);
  return policy;
}

export const filteredSummary = store.filteredSummary;

/** Types a policy may filter or drop (Mastodon's NotifyService::NON_FILTERABLE_TYPES are the others). */
const FILTERABLE = new Set<store.NotificationType>(["mention", "status", "reblog", "favourite", "follow", "follow_request"]);

function policyOutcome(facts: store.PairFacts, type: store.NotificationType, privateMention: boolean): PolicyAction {
  if (!FILTERABLE.has(type) || facts.permitted) return "accept";
  const policy = toPolicy(facts.policy);
  const applicable: PolicyAction[] = [];
  if (!facts.following) applicable.push(policy.for_not_following);
  if (!facts.followed_by) applicable.push(policy.for_not_followers);
  if (facts.sender_new && !facts.following) applicable.push(policy.for_new_accounts);
  if (privateMention && !facts.following) applicable.push(policy.for_private_mentions);
  if (facts.sender_limited && !facts.following) applicable.push(policy.for_limited_accounts);
  if (applicable.includes("drop")) return "drop";
  return applicable.includes("filter") ? "filter" : "accept";
}

// ---- creating ----

/** Mastodon groups these by a key; the rest stand alone (`ungrouped-<id>`). */
const GROUPED = new Set<store.NotificationType>(["favourite", "reblog", "follow", "admin.sign_up"]);
/** A group keeps growing while its newest member is less than this many hours old (MAXIMUM_GROUP_SPAN_HOURS). */
const GROUP_SPAN_HOURS = 12;

async function groupKeyFor(sql: Db, n: { id: string; accountId: string; type: store.NotificationType; statusId: string | null }, filtered: boolean): Promise<string> {
  if (filtered || !GROUPED.has(n.type)) return `ungrouped-${n.id}`;
  const prefix = n.type === "favourite" || n.type === "reblog" ? `${n.type}-${n.statusId}` : n.type;
  let bucket = Math.floor(Date.now() / 3_600_000);
  const previous = await store.latestGroupKey(sql, n.accountId, prefix);
  const previousBucket = previous ? Number(previous.slice(prefix.length + 1)) : NaN;
  if (Number.isInteger(previousBucket) && bucket < previousBucket + GROUP_SPAN_HOURS) bucket = previousBucket;
  return `${prefix}-${bucket}`;
}

export interface NotifyInput {
  recipientId: string;
  fromAccountId: string;
  type: store.NotificationType;
  statusId?: string | null;
  /** A mention in a direct post: the for_private_mentions policy applies. */
  privateMention?: boolean;
}

/**
 * Notify one account unless the rules say not to: never yourself, only local accounts, not when the
 * recipient blocks, mutes (with notifications) or domain-blocks the sender, not for a muted conversation
 * (mentions), and as the recipient's policy says. Returns the new notification's id, if one was made.
 */
export async function notify(context: AppContext, input: NotifyInput): Promise<string | undefined> {
  if (input.recipientId === input.fromAccountId) return undefined;
  const statusId = input.statusId ?? null;
  const facts = await store.pairFacts(context.sql, input.recipientId, input.fromAccountId, statusId);
  if (!facts || !facts.local) return undefined;
  if (facts.blocking || facts.muting || facts.domain_blocking) return undefined;
  if (input.type === "mention" && facts.conversation_muted) return undefined;
  const outcome = policyOutcome(facts, input.type, input.privateMention === true);
  if (outcome === "drop") return undefined;
  const filtered = outcome === "filter";

  // Each edit of a boosted post is news: the previous "update" notification gives way to a new one
  // (the table keeps one per cause).
  if (input.type === "update" && statusId) {
    await store.deleteNotificationsFor(context.sql, { accountId: input.recipientId, fromAccountId: input.fromAccountId, type: "update", statusId });
  }
  const id = await store.newId(context.sql);
  const groupKey = await groupKeyFor(context.sql, { id, accountId: input.recipientId, type: input.type, statusId }, filtered);
  const created = await store.insertNotification(context.sql, {
    id,
    accountId: input.recipientId,
    fromAccountId: input.fromAccountId,
    type: input.type,
    statusId,
    groupKey,
    filtered,
  });
  if (created) await publishEvent(context, { type: "notification.created", notificationId: created, accountId: input.recipientId });
  return created;
}

export const findStatusForNotifying = store.findStatus;
export const mentionedLocalAccounts = store.mentionedLocalAccounts;
export const notifyingFollowers = store.notifyingFollowers;
export const localRebloggers = store.localRebloggers;
export const forgetNotification = store.deleteNotificationsFor;

// ---- reading ----

export const listNotifications = store.listNotifications;
export const findNotification = store.findNotification;
export const dismissNotification = store.deleteNotification;
export const clearNotifications = store.clearNotifications;
export const countUnread = store.countAfter;
export const countUnreadGroups = store.countGroupsAfter;
export const pageGroupKeys = store.pageGroupKeys;
export const loadGroups = store.loadGroups;
export const dismissGroup = store.deleteGroup;

/** Mastodon groups these types by default in v2 when the client sends no grouped_types[]. */
export const DEFAULT_GROUPED_TYPES = ["favourite", "follow", "reblog", "admin.sign_up"];

// ---- notification requests (filtered notifications, by sender) ----

export const listRequests = store.listRequests;
export const findRequest = store.findRequest;

/** Accept or dismiss the requests named by these ids (unknown ids are skipped, as Mastodon's bulk form). */
export async function settleRequests(sql: Sql, accountId: string, requestIds: string[], action: "accept" | "dismiss"): Promise<number> {
  let settled = 0;
  await sql.begin(async (tx) => {
    for (const requestId of requestIds) {
      const sender = await store.requestSender(tx, accountId, requestId);
      if (!sender) continue;
      if (action === "accept") await store.acceptSender(tx, accountId, sender);
      else await store.dismissSender(tx, accountId, sender);
      settled++;
    }
  });
  return settled;
}

export const requestSender = store.requestSender;

/**
 * After accepted requests have been merged into the main list: the account's streams hear
 * `notifications_merged` (Mastodon's payload "1"), and clients reload their notifications.
 */
export async function announceMerged(context: Pick<AppContext, "redis" | "config">, accountId: string): Promise<void> {
  const ns = context.config.redis.namespace;
  const message = JSON.stringify({ event: "notifications_merged" });
  try {
    await context.redis.pipeline().publish(homeChannel(ns, accountId), message).publish(systemChannel(ns, accountId), message).exec();
  } catch (error) {
    // The merge is committed; a missed hint only means the client reloads later.
    log.warn("notifications: publishing notifications_merged failed", { error: String((error as Error)?.message ?? error) });
  }
}
