/**
 * Trends (Mastodon's Trends::Tags / Statuses / Links, simplified): real counts over the last 7 days of public
 * posts, recomputed by the trends.refresh recurring job into small tables, never on a request.
 *
 * Moderators review what trends (admin API /api/v1/admin/trends, migrations/0024): an item is approved,
 * rejected or not reviewed yet. Not reviewed still trends (as Mastodon with trendable_by_default on);
 * rejected never shows in the public trends; a link not reviewed itself follows its publisher's review.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { isAccountId as isId } from "../accounts/service";
import * as store from "./store";

export type { TrendingTagRow, TrendingLinkRow, AdminTrendingLinkRow, PublisherRow, TrendKind } from "./store";
/** The smallest status id of a moment (ids are milliseconds << 16, as woolly_id() makes them). */
export const idAt = store.idAt;

export const HISTORY_DAYS = 7;
/** Distinct accounts per day, summed over the week, that a tag or link needs before it trends. */
export const MIN_ACCOUNTS = 2;
const KEEP = 200;
const DAY_MS = 24 * 3600 * 1000;

export interface HistoryEntry {
  /** Unix time of midnight UTC, as a string (Mastodon's Tag history). */
  day: string;
  uses: string;
  accounts: string;
}

function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** Recompute every trend table in one transaction: readers see the previous run or this one, never half. */
export async function refreshTrends(context: Pick<AppContext, "sql">, now = new Date()): Promise<void> {
  const today = utcDay(now);
  const since = new Date(Date.parse(`${today}T00:00:00Z`) - (HISTORY_DAYS - 1) * DAY_MS);
  await context.sql.begin(async (tx) => {
    await store.refreshTagHistory(tx, since);
    await store.refreshTrendingTags(tx, today, MIN_ACCOUNTS);
    await store.refreshTrendingStatuses(tx, since, KEEP);
    await store.refreshTrendingLinks(tx, since, today, MIN_ACCOUNTS, KEEP);
    await store.rememberPublishers(tx);
  });
}

/** The last seven days ending today (UTC), newest first, with zeros where nothing was counted. */
export function historyWindow(counts: { day: string; uses: number; accounts: number }[], now = new Date()): HistoryEntry[] {
  const byDay = new Map(counts.map((c) => [c.day, c]));
  const todayStart = Date.parse(`${utcDay(now)}T00:00:00Z`);
  const out: HistoryEntry[] = [];
  for (let i = 0; i < HISTORY_DAYS; i++) {
    const start = todayStart - i * DAY_MS;
    const count = byDay.get(utcDay(new Date(start)));
    out.push({ day: String(start / 1000), uses: String(count?.uses ?? 0), accounts: String(count?.accounts ?? 0) });
  }
  return out;
}

/** Each tag's history (see historyWindow), as of the last trends refresh. */
export async function tagHistories(db: Db, tagIds: string[]): Promise<Map<string, HistoryEntry[]>> {
  const rows = await store.tagHistoryRows(db, [...new Set(tagIds)]);
  const grouped = new Map<string, store.HistoryRow[]>();
  for (const row of rows) grouped.set(row.tag_id, [...(grouped.get(row.tag_id) ?? []), row]);
  return new Map(tagIds.map((id) => [id, historyWindow(grouped.get(id) ?? [])]));
}

export function trendingTags(db: Db, limit: number, offset: number) {
  return store.trendingTags(db, limit, offset);
}

export function trendingStatusIds(db: Db, limit: number, offset: number) {
  return store.trendingStatusIds(db, limit, offset);
}

export function trendingLinks(db: Db, limit: number, offset: number) {
  return store.trendingLinks(db, limit, offset);
}

// ---- review (the moderators' side) ----

export const adminTrendingTags = store.adminTrendingTags;
export const adminTrendingStatuses = store.adminTrendingStatuses;
export const adminTrendingLinks = store.adminTrendingLinks;
export const listPublishers = store.listPublishers;

/** Approve (true) or reject (false) a tag, post or link; 404 when there is no such item. Returns it reviewed. */
export async function reviewTag(db: Db, id: string, trendable: boolean, byAccountId: string) {
  if (!isId(id) || !(await store.adminTag(db, id))) throw ApiError.notFound();
  await store.upsertReview(db, "tag", id, trendable, byAccountId);
  return (await store.adminTag(db, id))!;
}

export async function reviewStatus(db: Db, id: string, trendable: boolean, byAccountId: string): Promise<void> {
  if (!isId(id) || !(await store.statusReview(db, id))) throw ApiError.notFound();
  await store.upsertReview(db, "status", id, trendable, byAccountId);
}

export async function reviewLink(db: Db, id: string, trendable: boolean, byAccountId: string): Promise<store.AdminTrendingLinkRow> {
  if (!isId(id) || !(await store.adminLink(db, id))) throw ApiError.notFound();
  await store.upsertReview(db, "link", id, trendable, byAccountId);
  return (await store.adminLink(db, id))!;
}

export async function reviewPublisher(db: Db, id: string, trendable: boolean): Promise<store.PublisherRow> {
  const row = isId(id) ? await store.reviewPublisher(db, id, trendable) : undefined;
  if (!row) throw ApiError.notFound();
  return row;
}
