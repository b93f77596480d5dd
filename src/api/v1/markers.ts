/**
 * /api/v1/markers: the user's read positions in home and notifications (Mastodon's Marker entity), keyed by
 * timeline. GET returns only the timelines asked for that have a marker; POST moves them and bumps `version`.
 */
import * as v from "valibot";
import { findMarkers, MARKER_TIMELINES, saveMarkers, type MarkerRow, type MarkerTimeline } from "../../features/markers/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";

const timelineName = v.picklist(MARKER_TIMELINES, "must be home or notifications");
const markersQuery = v.object({
  timeline: v.optional(v.pipe(v.union([timelineName, v.array(timelineName)], "must be home or notifications"), v.transform((t) => (Array.isArray(t) ? t : [t])))),
});
const lastReadId = v.pipe(
  v.union([v.string(), v.pipe(v.number(), v.integer(), v.transform(String))], "must be an id"),
  v.string(),
  // One check (valibot runs every pipe step even after one fails, so BigInt must never see a non-number).
  v.check((id) => /^\d{1,19}$/.test(id) && BigInt(id) <= 9223372036854775807n, "must be an id"),
);
const position = v.optional(v.object({ last_read_id: lastReadId }));
const markersBody = v.object({ home: position, notifications: position });

export interface MarkerEntity {
  last_read_id: string;
  version: number;
  updated_at: string;
}

function render(rows: MarkerRow[]): Partial<Record<MarkerTimeline, MarkerEntity>> {
  return Object.fromEntries(
    rows.map((row) => [row.timeline, { last_read_id: row.last_read_id, version: row.lock_version, updated_at: row.updated_at.toISOString() }]),
  );
}

export function markerRoutes(context: AppContext) {
  return routes(context, "markers", (r) => {
    r.get("/api/v1/markers", { auth: "user", scopes: ["read", "read:statuses"], query: markersQuery, tags: ["markers"] }, async ({ input, caller }) =>
      render(await findMarkers(context.sql, caller.account!.id, [...new Set(input.query.timeline ?? [])])),
    );
    r.post("/api/v1/markers", { auth: "user", scopes: ["write", "write:statuses"], body: markersBody, tags: ["markers"] }, async ({ input, caller }) =>
      render(
        await saveMarkers(context.sql, caller.account!.id, {
          home: input.body.home?.last_read_id,
          notifications: input.body.notifications?.last_read_id,
        }),
      ),
    );
  });
}
