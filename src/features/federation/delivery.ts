/**
 * Local actions travel out: a subscriber of domain events (src/events.ts) that turns what a LOCAL account did
 * into an activity and queues one `activitypub.deliver` job per inbox (shared inboxes deduplicated).
 * Mastodon's ActivityPub::DistributionWorker and friends, in one place:
 *
 *   status.created        Create(Note)        followers (not for direct) + mentioned actors + replied-to author
 *   status.updated        Update(Note)        same, plus servers holding a copy (boosters)
 *   status.deleted        Delete(Tombstone)   same; for a boost, Undo(Announce) to followers + boosted author
 *   status.reblogged      Announce            followers + the boosted author
 *   status.favourited     Like                the liked post's author
 *   status.unfavourited   Undo(Like)          the liked post's author
 *   account.follow_requested  Follow          the remote target (local → remote)
 *   account.followed      Accept(Follow)      the remote follower (remote → local, automatic or authorized)
 *   account.follow_rejected   Reject(Follow)  the remote requester
 *   account.unfollowed    Undo(Follow) when the local follower left; Reject(Follow) when the local target
 *                         removed a remote follower (block, remove_from_followers, domain block)
 *   account.blocked / unblocked  Block / Undo(Block)  the remote target
 *   account.updated       Update(Person)      every server that follows or is followed by the account
 *   (account deletion)    Delete(Person)      the same servers, signed before the account and its key go
 *                         (announceAccountDeletion, called by whoever deletes the account)
 *
 * Remote-originated events (a remote account's follow, a remote post…) never go out again: every branch
 * checks that the acting account is local. Safe to run twice: delivery job ids derive from the activity id
 * and the inbox.
 */
import type { Subscriber } from "../events/publish";
import { eventSchema } from "../events/schema";
import type { EventOf, PublishedEvent } from "../events/types";
import type { AppContext } from "../../infra/context";
import { defineJob } from "../../infra/queues/registry";
import { findVisibleLocalAccount } from "../accounts/service";
import {
  announceActivity,
  answerFollowActivity,
  blockActivity,
  createActivity,
  deleteActivity,
  followActivity,
  followersUrl,
  likeActivity,
  undoActivity,
  updateActivity,
  updateActorActivity,
  deleteActorActivity,
} from "./activities";
import { addressStatus, dedupeInboxes, preferredInbox, statusInboxes } from "./addressing";
import { enqueueDeliveries } from "./delivery-jobs";
import { loadStatus } from "./outbound";
import { renderPerson } from "./outbound-actor";
import * as store from "./outbound-store";
import { bumpObjectVersion } from "./outbound-versions";
import { acceptedRelayInboxes } from "../relays/service";
import { signIfDistributable } from "./ld-signatures";

export const DELIVERED_EVENTS = [
  "status.created",
  "status.updated",
  "status.deleted",
  "status.reblogged",
  "status.favourited",
  "status.unfavourited",
  "account.follow_requested",
  "account.followed",
  "account.follow_rejected",
  "account.unfollowed",
  "account.blocked",
  "account.unblocked",
  "account.updated",
] as const;

type Handled = EventOf<(typeof DELIVERED_EVENTS)[number]>;

const isLocal = (account: store.AccountRef | undefined): account is store.AccountRef => account !== undefined && account.domain === null;
const isRemote = (account: store.AccountRef | undefined): account is store.AccountRef => account !== undefined && account.domain !== null;

async function statusEvent(context: AppContext, event: EventOf<"status.created" | "status.updated" | "status.deleted" | "status.reblogged">): Promise<void> {
  const loaded = await loadStatus(context, event.statusId);
  if (!loaded || !loaded.row.local || loaded.row.author_domain !== null) return;
  const { row, note } = loaded;
  // Deleted before this job ran: its Delete (a job of its own) is all that should travel.
  if (row.deleted_at && event.type !== "status.deleted") return;
  // Edits and deletes change what the object URLs answer: let every web process drop its cached render.
  await bumpObjectVersion(context, row.author_username);
  // Public and unlisted posts travel with the author's Linked Data Signature (relays pass them on).
  const signed = (activity: Record<string, unknown>) => signIfDistributable(context, row.account_id, row.visibility, activity);

  if (row.reblog_of_id) {
    const original = await loadStatus(context, row.reblog_of_id);
    if (!original) return;
    const author = (await store.accountRefs(context.sql, [original.row.account_id])).get(original.row.account_id);
    const announce = announceActivity({
      uri: row.uri,
      visibility: row.visibility,
      createdAt: row.created_at,
      actorUri: row.author_uri,
      originalUri: original.row.uri,
      originalAuthorUri: original.row.author_uri,
    });
    const inboxes = dedupeInboxes([...(await store.followerInboxes(context.sql, row.account_id)), isRemote(author) ? preferredInbox(author) : null]);
    if (event.type === "status.deleted") {
      await enqueueDeliveries(context, row.account_id, await signed(undoActivity(row.author_uri, announce, { to: announce.to as string[], cc: announce.cc as string[] })), inboxes);
    } else if (event.type === "status.reblogged" || event.type === "status.created") {
      await enqueueDeliveries(context, row.account_id, await signed(announce), inboxes);
    }
    return;
  }
  if (event.type === "status.reblogged") return;

  const reach = {
    visibility: row.visibility,
    followerInboxes: await store.followerInboxes(context.sql, row.account_id),
    mentionedInboxes: loaded.mentionedInboxes.filter((i): i is string => i !== null),
    // The replied-to author's server (and, for edits and deletes, boosters' servers) holds a copy or a thread.
    otherInboxes: await store.copyHolderInboxes(context.sql, row.id),
  };
  // Public posts (and their edits and deletes) also go to accepted relays (src/features/relays).
  if (row.visibility === "public") reach.otherInboxes.push(...(await acceptedRelayInboxes(context)));
  const inboxes = statusInboxes(reach);
  // Followers-only posts tell each server which of its accounts we believe follow (followers-sync.ts).
  const options = { syncFollowers: row.visibility === "private" };
  if (event.type === "status.created") await enqueueDeliveries(context, row.account_id, await signed(createActivity(context.config, note)), inboxes, options);
  else if (event.type === "status.updated") await enqueueDeliveries(context, row.account_id, await signed(updateActivity(context.config, note)), inboxes, options);
  else {
    const addressing = addressStatus(row.visibility, followersUrl(row.author_uri), note.mentions.map((m) => m.uri));
    await enqueueDeliveries(context, row.account_id, await signed(deleteActivity(row.uri, row.author_uri, addressing)), inboxes, options);
  }
}

async function likeEvent(context: AppContext, event: PublishedEvent<EventOf<"status.favourited" | "status.unfavourited">>): Promise<void> {
  const loaded = await loadStatus(context, event.statusId);
  if (!loaded) return;
  const accounts = await store.accountRefs(context.sql, [event.accountId, loaded.row.account_id]);
  const actor = accounts.get(event.accountId);
  const author = accounts.get(loaded.row.account_id);
  if (!isLocal(actor) || !isRemote(author)) return;
  const inbox = dedupeInboxes([author.inbox_url ?? preferredInbox(author)]);
  if (event.type === "status.favourited") {
    const favourite = await store.favouriteRow(context.sql, actor.id, loaded.row.id);
    if (!favourite) return; // undone meanwhile: its Undo follows
    await enqueueDeliveries(context, actor.id, likeActivity(actor.uri, favourite.id, loaded.row.uri), inbox);
  } else {
    // The favourite row is gone and with it the Like's id; receivers (Mastodon, Fedify) match an Undo(Like)
    // by its actor and object, which the embedded Like carries.
    const like = { id: `${actor.uri}#likes/${loaded.row.id}/${event.eventId}`, type: "Like", actor: actor.uri, object: loaded.row.uri };
    await enqueueDeliveries(context, actor.id, undoActivity(actor.uri, like), inbox);
  }
}

async function graphEvent(context: AppContext, event: PublishedEvent<EventOf<"account.follow_requested" | "account.followed" | "account.follow_rejected" | "account.unfollowed" | "account.blocked" | "account.unblocked">>): Promise<void> {
  const accounts = await store.accountRefs(context.sql, [event.accountId, event.targetAccountId]);
  const source = accounts.get(event.accountId);
  const target = accounts.get(event.targetAccountId);
  if (!source || !target) return;

  switch (event.type) {
    case "account.follow_requested": {
      if (!isLocal(source) || !isRemote(target)) return;
      const request = await store.followRow(context.sql, "follow_requests", source.id, target.id);
      if (!request) return; // withdrawn meanwhile: its Undo follows
      const uri = request.uri ?? `${source.uri}#follows/${request.id}`;
      await enqueueDeliveries(context, source.id, followActivity(uri, source.uri, target.uri), dedupeInboxes([target.inbox_url ?? preferredInbox(target)]));
      return;
    }
    case "account.followed": {
      // A remote actor now follows a local account: automatic for an unlocked account, or authorized.
      if (!isRemote(source) || !isLocal(target)) return;
      const follow = await store.followRow(context.sql, "follows", source.id, target.id);
      if (!follow) return;
      const accept = answerFollowActivity("Accept", { id: follow.id, uri: follow.uri, followerUri: source.uri, targetUri: target.uri });
      await enqueueDeliveries(context, target.id, accept, dedupeInboxes([source.inbox_url ?? preferredInbox(source)]));
      return;
    }
    case "account.follow_rejected": {
      if (!isRemote(source) || !isLocal(target)) return;
      const reject = answerFollowActivity("Reject", { id: event.followId, uri: event.followUri, followerUri: source.uri, targetUri: target.uri });
      await enqueueDeliveries(context, target.id, reject, dedupeInboxes([source.inbox_url ?? preferredInbox(source)]));
      return;
    }
    case "account.unfollowed": {
      const initiator = event.initiatedBy ?? source.id;
      const id = event.followId ?? `${event.eventId}`;
      if (initiator === source.id && isLocal(source) && isRemote(target)) {
        const follow = followActivity(event.followUri ?? `${source.uri}#follows/${id}`, source.uri, target.uri);
        await enqueueDeliveries(context, source.id, undoActivity(source.uri, follow), dedupeInboxes([target.inbox_url ?? preferredInbox(target)]));
      } else if (initiator === target.id && isLocal(target) && isRemote(source)) {
        const reject = answerFollowActivity("Reject", { id, uri: event.followUri ?? null, followerUri: source.uri, targetUri: target.uri });
        await enqueueDeliveries(context, target.id, reject, dedupeInboxes([source.inbox_url ?? preferredInbox(source)]));
      }
      return;
    }
    case "account.blocked": {
      if (!isLocal(source) || !isRemote(target)) return;
      const block = await store.blockRow(context.sql, source.id, target.id);
      if (!block) return;
      await enqueueDeliveries(context, source.id, blockActivity(source.uri, block.id, target.uri), dedupeInboxes([target.inbox_url ?? preferredInbox(target)]));
      return;
    }
    case "account.unblocked": {
      if (!isLocal(source) || !isRemote(target)) return;
      const undo = undoActivity(source.uri, blockActivity(source.uri, event.blockId, target.uri));
      await enqueueDeliveries(context, source.id, undo, dedupeInboxes([target.inbox_url ?? preferredInbox(target)]));
      return;
    }
  }
}

async function profileEvent(context: AppContext, event: EventOf<"account.updated">): Promise<void> {
  const ref = (await store.accountRefs(context.sql, [event.accountId])).get(event.accountId);
  if (!isLocal(ref)) return;
  await bumpObjectVersion(context, ref.username);
  const account = await findVisibleLocalAccount(context.sql, ref.username);
  if (!account) return;
  const activity = updateActorActivity(renderPerson(context.config, account));
  await enqueueDeliveries(context, account.id, activity, await store.relationshipInboxes(context.sql, account.id));
}

/**
 * Delete(Person) for a local account that is about to be deleted: call it BEFORE the row goes. Every server
 * that follows or is followed by the account hears of it. The deliveries are signed now (the key goes with
 * the row) and sent by the push workers. Returns how many inboxes were queued.
 */
export async function announceAccountDeletion(context: AppContext, accountId: string): Promise<number> {
  const key = await store.privateKeyOf(context.sql, accountId);
  if (!key) return 0;
  const inboxes = await store.relationshipInboxes(context.sql, accountId);
  return enqueueDeliveries(context, accountId, deleteActorActivity(key.uri), inboxes, { presignWith: key });
}

export async function deliverEvent(context: AppContext, event: PublishedEvent<Handled>): Promise<void> {
  switch (event.type) {
    case "status.created":
    case "status.updated":
    case "status.deleted":
    case "status.reblogged":
      return statusEvent(context, event);
    case "status.favourited":
    case "status.unfavourited":
      return likeEvent(context, event as PublishedEvent<EventOf<"status.favourited" | "status.unfavourited">>);
    case "account.updated":
      return profileEvent(context, event);
    default:
      return graphEvent(context, event);
  }
}

export const deliverEventJob = defineJob({
  name: "activitypub.distribute",
  queue: "push",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 2000,
  async handler(event, context) {
    await deliverEvent(context, event as PublishedEvent<Handled>);
  },
});

export const deliverySubscribers: Subscriber[] = [{ events: DELIVERED_EVENTS, job: deliverEventJob }];

