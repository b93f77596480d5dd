/** SQL for markers: one row per (account, timeline), its lock_version bumped on every save. */
import type { Db } from "../../infra/db";

export type MarkerTimeline = "home" | "notifications";

export interface MarkerRow {
  timeline: MarkerTimeline;
  last_read_id: string;
  lock_version: number;
  updated_at: Date;
}

export async function findMarkers(sql: Db, accountId: string, timelines: MarkerTimeline[]): Promise<MarkerRow[]> {
  if (timelines.length === 0) return [];
  return sql<MarkerRow[]>`
    select timeline, last_read_id, lock_version, updated_at from markers
    where account_id = ${accountId} and timeline = any(${timelines}::text[])`;
}

/** Insert or move a marker; one statement, so concurrent saves each bump the version once. */
export async function saveMarker(sql: Db, accountId: string, timeline: MarkerTimeline, lastReadId: string): Promise<MarkerRow> {
  const [row] = await sql<MarkerRow[]>`
    insert into markers (account_id, timeline, last_read_id) values (${accountId}, ${timeline}, ${lastReadId})
    on conflict (account_id, timeline) do update
      set last_read_id = excluded.last_read_id, lock_version = markers.lock_version + 1, updated_at = now()
    returning timeline, last_read_id, lock_version, updated_at`;
  return row!;
}
