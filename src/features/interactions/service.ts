/**
 * What an account does to someone's status: boost, favourite, bookmark, pin, mute its conversation. Each
 * change is one transaction and idempotent (doing it twice changes nothing the second time); events are
 * published after commit. A status the actor may not see is a 404 whatever the action (visibility.ts).
 * Acting on a boost acts on the boosted status, as Mastodon does.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { postingDefaults, type LocalAccountRow } from "../accounts/service";
import { publishEvent } from "../events/publish";
import { forgetNotification } from "../notifications/service";
import type { Visibility } from "../statuses/visibility";
import * as store from "./store";

/** Mastodon's StatusPinValidator::PIN_LIMIT for local accounts. */
export const MAX_PINS = 5;

const ID = /^\d{1,19}$/;
const MAX_BIGINT = 9223372036854775807n;

export function isStatusId(value: unknown): value is string {
  return typeof value === "string" && ID.test(value) && BigInt(value) <= MAX_BIGINT && BigInt(value) > 0n;
}

/** The status the id names, unwrapped when it is a boost; 404 when missing or not visible to the actor. */
export async function visibleTarget(sql: Db, actorId: string, statusId: string): Promise<store.StatusRef> {
  if (!isStatusId(statusId)) throw ApiError.notFound();
  const status = await store.findVisibleStatus(sql, actorId, statusId);
  if (!status) throw ApiError.notFound();
  if (!status.reblog_of_id) return status;
  const original = await store.findVisibleStatus(sql, actorId, status.reblog_of_id);
  if (!original) throw ApiError.notFound();
  return original;
}

// ---- boosts ----

export type ReblogVisibility = "public" | "unlisted" | "private";

/** Boost a status; the boost's id (the existing one when already boosted). */
export async function reblogStatus(
  context: AppContext,
  actor: LocalAccountRow,
  statusId: string,
  options: { visibility?: ReblogVisibility; applicationId?: string | null } = {},
): Promise<{ reblogId: string; originalId: string }> {
  const original = await visibleTarget(context.sql, actor.id, statusId);
  // StatusPolicy#reblog?: never direct; private only by its author (the boost stays private then).
  if (original.visibility === "direct") throw ApiError.unprocessable("Validation failed: Direct posts cannot be boosted");
  if (original.visibility === "private" && original.account_id !== actor.id) {
    throw ApiError.unprocessable("Validation failed: Private posts cannot be boosted");
  }
  if (await store.authorBlocks(context.sql, actor.id, original.account_id)) throw ApiError.unprocessable("Validation failed: You are blocking this account");

  const existing = await store.findReblog(context.sql, actor.id, original.id);
  if (existing) return { reblogId: existing.id, originalId: original.id };

  const visibility: Visibility =
    original.visibility === "private" ? "private" : (options.visibility ?? defaultReblogVisibility(actor));
  const created = await context.sql.begin((tx) =>
    store.insertReblog(tx, {
      accountId: actor.id,
      originalId: original.id,
      visibility,
      uriPrefix: `${context.config.baseUrl}/users/${actor.username}/statuses/`,
      applicationId: options.applicationId ?? null,
    }),
  );
  if (!created) {
    // A concurrent request boosted first: answer with that boost.
    const winner = await store.findReblog(context.sql, actor.id, original.id);
    if (!winner) throw ApiError.unprocessable("Validation failed: Reblog could not be created");
    return { reblogId: winner.id, originalId: original.id };
  }
  await publishEvent(context, { type: "status.reblogged", statusId: created, reblogOfId: original.id, accountId: actor.id });
  return { reblogId: created, originalId: original.id };
}

function defaultReblogVisibility(actor: LocalAccountRow): Visibility {
  const privacy = postingDefaults(actor.user).privacy;
  // A boost cannot be direct; someone whose default is direct boosts followers-only.
  return privacy === "direct" ? "private" : privacy;
}

/** Undo a boost; the original's id (to render). No boost: nothing happens. */
export async function unreblogStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  if (!isStatusId(statusId)) throw ApiError.notFound();
  // The id may name the original or the boost itself.
  const status = await store.findVisibleStatus(context.sql, actor.id, statusId);
  if (!status) throw ApiError.notFound();
  const originalId = status.reblog_of_id ?? status.id;
  const removed = await context.sql.begin((tx) => store.deleteReblog(tx, actor.id, originalId));
  if (removed) {
    await publishEvent(context, { type: "status.deleted", statusId: removed.id, accountId: actor.id, visibility: removed.visibility, reblogOfId: originalId });
  }
  return originalId;
}

// ---- favourites and bookmarks ----

export async function favouriteStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  const status = await visibleTarget(context.sql, actor.id, statusId);
  if (await store.authorBlocks(context.sql, actor.id, status.account_id)) throw ApiError.unprocessable("Validation failed: You are blocking this account");
  const created = await context.sql.begin((tx) => store.insertMark(tx, "favourites", actor.id, status.id));
  if (created) await publishEvent(context, { type: "status.favourited", statusId: status.id, accountId: actor.id });
  return status.id;
}

export async function unfavouriteStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  const status = await visibleTarget(context.sql, actor.id, statusId);
  const removed = await context.sql.begin((tx) => store.deleteMark(tx, "favourites", actor.id, status.id));
  // The favourite's notification goes with it, as Mastodon's dependent notification does.
  if (removed) await forgetNotification(context.sql, { accountId: status.account_id, fromAccountId: actor.id, type: "favourite", statusId: status.id });
  if (removed) await publishEvent(context, { type: "status.unfavourited", statusId: status.id, accountId: actor.id });
  return status.id;
}

/** Whether the favourite / boost behind an event still stands (its notification is not made otherwise). */
export const hasFavourited = (sql: Db, accountId: string, statusId: string) => store.hasMark(sql, "favourites", accountId, statusId);
export const isLiveReblog = store.isLiveReblog;

export async function bookmarkStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  const status = await visibleTarget(context.sql, actor.id, statusId);
  await store.insertMark(context.sql, "bookmarks", actor.id, status.id);
  return status.id;
}

export async function unbookmarkStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  const status = await visibleTarget(context.sql, actor.id, statusId);
  await store.deleteMark(context.sql, "bookmarks", actor.id, status.id);
  return status.id;
}

export const listFavourites = (sql: Db, accountId: string, page: Parameters<typeof store.listMarks>[3]) => store.listMarks(sql, "favourites", accountId, page);
export const listBookmarks = (sql: Db, accountId: string, page: Parameters<typeof store.listMarks>[3]) => store.listMarks(sql, "bookmarks", accountId, page);

/** Who boosted / favourited a status the viewer may see (404 otherwise). */
export async function listInteractors(
  context: AppContext,
  viewerId: string | undefined,
  kind: "reblogs" | "favourites",
  statusId: string,
  page: Parameters<typeof store.listInteractors>[3],
) {
  if (!isStatusId(statusId)) throw ApiError.notFound();
  const status = await store.findVisibleStatus(context.sql, viewerId ?? null, statusId);
  if (!status) throw ApiError.notFound();
  return store.listInteractors(context.sql, kind, status.id, page);
}

// ---- pins ----

export async function pinStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  if (!isStatusId(statusId)) throw ApiError.notFound();
  const status = await store.findVisibleStatus(context.sql, actor.id, statusId);
  if (!status) throw ApiError.notFound();
  // StatusPinValidator's rules and messages.
  if (status.reblog_of_id) throw ApiError.unprocessable("Validation failed: A boost cannot be pinned");
  if (status.account_id !== actor.id) throw ApiError.unprocessable("Validation failed: Someone else's post cannot be pinned");
  if (status.visibility === "direct") throw ApiError.unprocessable("Validation failed: Posts that are only visible to mentioned users cannot be pinned");
  await context.sql.begin(async (tx) => {
    await store.lockAccount(tx, actor.id);
    if (await store.isPinned(tx, actor.id, status.id)) return;
    if ((await store.countPins(tx, actor.id)) >= MAX_PINS) throw ApiError.unprocessable("Validation failed: You have already pinned the maximum number of posts");
    await store.insertPin(tx, actor.id, status.id);
  });
  return status.id;
}

export async function unpinStatus(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  if (!isStatusId(statusId)) throw ApiError.notFound();
  const status = await store.findVisibleStatus(context.sql, actor.id, statusId);
  if (!status) throw ApiError.notFound();
  await store.deletePin(context.sql, actor.id, status.id);
  return status.id;
}

// ---- conversation mutes ----

async function conversationOf(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<{ statusId: string; conversationId: string }> {
  const status = await visibleTarget(context.sql, actor.id, statusId);
  if (!status.conversation_id) throw ApiError.unprocessable("Validation failed: This post is not part of a conversation");
  if (!(await store.takesPartIn(context.sql, actor.id, status.conversation_id))) {
    throw ApiError.unprocessable("Validation failed: You are not part of this conversation");
  }
  return { statusId: status.id, conversationId: status.conversation_id };
}

export async function muteConversation(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  const { statusId: id, conversationId } = await conversationOf(context, actor, statusId);
  await store.insertConversationMute(context.sql, actor.id, conversationId);
  return id;
}

export async function unmuteConversation(context: AppContext, actor: LocalAccountRow, statusId: string): Promise<string> {
  const { statusId: id, conversationId } = await conversationOf(context, actor, statusId);
  await store.deleteConversationMute(context.sql, actor.id, conversationId);
  return id;
}
