/**
 * Announcements (Mastodon's Announcement): created and removed by the operator (`woolly admin announcements`),
 * listed to signed-in users while active, dismissed per user, reacted to with Unicode emoji (at most 8
 * different ones per announcement, as Mastodon). Live clients hear `announcement`, `announcement.reaction`
 * and `announcement.delete` on their `user` stream, through one shared Redis channel.
 */
import type { Config } from "../../infra/config";
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import type { Redis } from "../../infra/redis";
import { channelName } from "../streaming/channels";
import { plainToHtml } from "../text/plain-to-html";
import { isStatusId } from "../statuses/service";
import * as store from "./store";

export type { AnnouncementRow, ReactionCount } from "./store";

/** Mastodon's Announcement reactions limit (distinct names). */
const MAX_REACTION_NAMES = 8;
const MAX_TEXT = 10_000;
/** One emoji: pictographs with their modifiers, joiners and variation selectors, or a flag pair. */
const EMOJI = /^(?:\p{Regional_Indicator}{2}|[\p{Extended_Pictographic}\p{Emoji_Component}\u200d\ufe0f\u20e3]+)$/u;

export interface AnnouncementDeps {
  sql: Sql;
  redis: Redis;
  config: Pick<Config, "redis">;
}

/** The channel every streaming process listens to for its `user` readers (see src/streaming/streams.ts). */
export const announcementsChannel = (namespace: string) => channelName(namespace, "announcements");

async function broadcast(deps: AnnouncementDeps, message: { event: string; payload: string }): Promise<void> {
  await deps.redis.publish(announcementsChannel(deps.config.redis.namespace), JSON.stringify(message));
}

export const activeAnnouncements = (sql: Db, accountId: string, withDismissed: boolean) => store.active(sql, accountId, withDismissed);
export const reactionsOf = store.reactions;
export const allAnnouncements = store.all;

export interface NewAnnouncement {
  text: string;
  startsAt?: Date | null;
  endsAt?: Date | null;
  allDay?: boolean;
}

export async function createAnnouncement(deps: AnnouncementDeps, input: NewAnnouncement, render: (row: store.AnnouncementRow) => unknown): Promise<store.AnnouncementRow> {
  const text = input.text.trim();
  if (text === "") throw ApiError.unprocessable("Validation failed: Text can't be blank");
  if (text.length > MAX_TEXT) throw ApiError.unprocessable(`Validation failed: Text is too long (maximum is ${MAX_TEXT} characters)`);
  if (input.startsAt && input.endsAt && input.endsAt <= input.startsAt) throw ApiError.unprocessable("Validation failed: Ends at must be after the start");
  const row = await store.insert(deps.sql, { text, content: plainToHtml(text), startsAt: input.startsAt ?? null, endsAt: input.endsAt ?? null, allDay: input.allDay ?? false });
  await broadcast(deps, { event: "announcement", payload: JSON.stringify(render(row)) });
  return row;
}

export async function deleteAnnouncement(deps: AnnouncementDeps, id: string): Promise<boolean> {
  if (!isStatusId(id) || !(await store.remove(deps.sql, id))) return false;
  await broadcast(deps, { event: "announcement.delete", payload: id });
  return true;
}

async function findActive(sql: Db, id: string): Promise<store.AnnouncementRow> {
  const row = isStatusId(id) ? await store.findActive(sql, id) : undefined;
  if (!row) throw ApiError.notFound();
  return row;
}

export async function dismiss(sql: Db, accountId: string, id: string): Promise<void> {
  const row = await findActive(sql, id);
  await store.dismiss(sql, row.id, accountId);
}

function checkName(name: string): string {
  const value = name.normalize("NFC");
  if ([...value].length > 16 || !EMOJI.test(value) || /^[\d#*\s]+$/.test(value)) throw ApiError.unprocessable("Validation failed: Name is not a recognized emoji");
  return value;
}

export async function react(deps: AnnouncementDeps, accountId: string, id: string, rawName: string): Promise<void> {
  const row = await findActive(deps.sql, id);
  const name = checkName(rawName);
  await deps.sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('announcement_reactions'), hashtext(${row.id}))`;
    const names = await store.distinctReactionNames(tx, row.id);
    if (!names.includes(name) && names.length >= MAX_REACTION_NAMES) throw ApiError.unprocessable("Validation failed: Maximum number of different reactions reached");
    await store.addReaction(tx, row.id, accountId, name);
  });
  await announceReaction(deps, row.id, name);
}

export async function unreact(deps: AnnouncementDeps, accountId: string, id: string, rawName: string): Promise<void> {
  const row = await findActive(deps.sql, id);
  await store.removeReaction(deps.sql, row.id, accountId, rawName.normalize("NFC"));
  await announceReaction(deps, row.id, rawName.normalize("NFC"));
}

async function announceReaction(deps: AnnouncementDeps, id: string, name: string): Promise<void> {
  const count = await store.reactionCount(deps.sql, id, name);
  await broadcast(deps, { event: "announcement.reaction", payload: JSON.stringify({ name, count, announcement_id: id }) });
}
