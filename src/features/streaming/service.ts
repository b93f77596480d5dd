/**
 * Publishing to live clients: domain events become Redis pub/sub messages on Mastodon's channels. The
 * streaming role (src/streaming) subscribes to the channels its clients need, renders and filters per
 * connection. Publishing is fire-and-forget: nobody listening is not an error.
 */
import type { EventOf, PublishedEvent } from "../events/types";
import type { AppContext } from "../../infra/context";
import {
  directChannel,
  hashtagChannel,
  homeChannel,
  notificationsChannel,
  channelName,
  publicChannelNames,
  systemChannel,
  type RelationChange,
  type StreamMessage,
} from "./channels";
import { onlineAccounts, onlineAmong } from "./presence";
import * as store from "./store";
import { log } from "../../infra/log";

type Outgoing = [channel: string, message: StreamMessage];

async function publishAll(context: AppContext, messages: Outgoing[]): Promise<void> {
  if (messages.length === 0) return;
  const pipeline = context.redis.pipeline();
  for (const [channel, message] of messages) pipeline.publish(channel, JSON.stringify(message));
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (failed) throw failed[0];
}

/**
 * Where a status's events go (Mastodon's FanOutOnWriteService): the author's and home recipients' `user`
 * streams; public and hashtag streams when it is public and not a boost; the direct streams of the people
 * in a direct conversation.
 */
async function statusMessages(context: AppContext, statusId: string, event: "update" | "status.update" | "delete", ref: string): Promise<Outgoing[]> {
  const ns = context.config.redis.namespace;
  const facts = await store.statusFacts(context.sql, statusId);
  if (!facts) return [];
  const message: StreamMessage = event === "delete" ? { event, statusId } : { event, statusId, ref };
  const out: Outgoing[] = [];
  // Few people connected (the usual case): ask Postgres only about them; many: about every recipient.
  const online = await onlineIfFew(context);
  const home = new Set(await store.homeRecipients(context.sql, statusId, online ?? undefined));
  if (facts.local) home.add(facts.account_id);
  const participants = new Set<string>();
  if (facts.visibility === "direct" && !facts.reblog_of_id) {
    for (const id of facts.mentioned) participants.add(id);
    if (facts.local) participants.add(facts.account_id);
  }
  const listening = online ? new Set(online) : await listeningAmong(context, [...new Set([...home, ...participants])]);
  // The author's own channel always gets it: one message per post whatever the follower count, and raw
  // channel listeners (tests of other features) need not register as listening.
  if (facts.local) listening.add(facts.account_id);
  for (const id of home) if (listening.has(id)) out.push([homeChannel(ns, id), message]);
  if (facts.visibility === "public" && !facts.reblog_of_id) {
    for (const name of publicChannelNames(facts.local, facts.has_media)) out.push([channelName(ns, name), message]);
    for (const tag of facts.tags) {
      out.push([hashtagChannel(ns, tag, false), message]);
      if (facts.local) out.push([hashtagChannel(ns, tag, true), message]);
    }
  }
  if (participants.size > 0) {
    // Mastodon's direct stream carries `conversation` events for new posts, and `delete` as elsewhere.
    const directMessage: StreamMessage = event === "delete" ? message : { event: "conversation", statusId, ref };
    for (const id of participants) if (listening.has(id)) out.push([directChannel(ns, id), directMessage]);
  }
  return out;
}

/**
 * Of these accounts, those with a home or direct stream open somewhere (presence.ts): only they get a
 * message. If the record cannot be read, everyone does — correct, only costlier.
 */
/** Above this many connected accounts, recipients are listed first and then checked for presence. */
const FEW_ONLINE = 2000;

async function onlineIfFew(context: AppContext): Promise<string[] | null> {
  try {
    return await onlineAccounts(context.redis, context.config.redis.namespace, FEW_ONLINE);
  } catch (error) {
    log.warn("streaming: presence read failed; publishing to every recipient", { error: String((error as Error)?.message ?? error) });
    return null;
  }
}

async function listeningAmong(context: AppContext, accountIds: string[]): Promise<Set<string>> {
  try {
    return new Set(await onlineAmong(context.redis, context.config.redis.namespace, accountIds));
  } catch (error) {
    log.warn("streaming: presence read failed; publishing to every recipient", { error: String((error as Error)?.message ?? error) });
    return new Set(accountIds);
  }
}

export async function streamStatusCreated(context: AppContext, statusId: string, ref: string): Promise<void> {
  await publishAll(context, await statusMessages(context, statusId, "update", ref));
}

export async function streamStatusUpdated(context: AppContext, statusId: string, ref: string): Promise<void> {
  await publishAll(context, await statusMessages(context, statusId, "status.update", ref));
}

export async function streamStatusDeleted(context: AppContext, event: PublishedEvent<EventOf<"status.deleted">>): Promise<void> {
  const messages = await statusMessages(context, event.statusId, "delete", event.eventId);
  // The row may be gone for good (purged): the author's own stream still hears about it.
  if (messages.length === 0) messages.push([homeChannel(context.config.redis.namespace, event.accountId), { event: "delete", statusId: event.statusId }]);
  await publishAll(context, messages);
}

export async function streamNotification(context: AppContext, event: EventOf<"notification.created">): Promise<void> {
  if (!(await store.notificationStreamable(context.sql, event.notificationId))) return;
  await publishAll(context, [[notificationsChannel(context.config.redis.namespace, event.accountId), { event: "notification", notificationId: event.notificationId }]]);
}

/** A relation change, per account whose cached relations it alters (src/streaming/relations.ts). */
export async function streamRelationsChanged(context: AppContext, changes: [accountId: string, change: RelationChange][]): Promise<void> {
  const ns = context.config.redis.namespace;
  await publishAll(context, changes.map(([id, change]): Outgoing => [systemChannel(ns, id), { event: "relations_changed", change }]));
}
