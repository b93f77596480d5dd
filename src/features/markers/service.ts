/**
 * Read positions (Mastodon's markers): where the user stopped reading home and notifications, shared between
 * their clients. `version` lets a client notice another one moved it.
 */
import type { Db, Sql } from "../../infra/db";
import * as store from "./store";

export type { MarkerRow, MarkerTimeline } from "./store";
export const MARKER_TIMELINES: readonly store.MarkerTimeline[] = ["home", "notifications"];

export const findMarkers = store.findMarkers;

/** Save several markers at once (all or none). */
export async function saveMarkers(sql: Sql, accountId: string, positions: Partial<Record<store.MarkerTimeline, string>>): Promise<store.MarkerRow[]> {
  return sql.begin(async (tx) => {
    const saved: store.MarkerRow[] = [];
    for (const timeline of MARKER_TIMELINES) {
      const id = positions[timeline];
      if (id !== undefined) saved.push(await store.saveMarker(tx, accountId, timeline, id));
    }
    return saved;
  }) as Promise<store.MarkerRow[]>;
}

/** The notifications marker's position, "0" when the user never set one. */
export async function notificationsReadUpTo(sql: Db, accountId: string): Promise<string> {
  const [marker] = await store.findMarkers(sql, accountId, ["notifications"]);
  return marker?.last_read_id ?? "0";
}
