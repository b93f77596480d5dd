/**
 * POST /api/v1/admin/retention: sign-up cohorts by day or month and how many of each are still active in
 * each later period (features/admin/dimensions.ts explains "active"). Mastodon's view_dashboard permission.
 * Also the date range both dashboard endpoints take (start_at / end_at; a time part is ignored).
 */
import * as v from "valibot";
import { retention } from "../../../features/admin/dimensions";
import type { AppContext } from "../../../infra/context";
import { ApiError } from "../../../infra/errors";
import { routes } from "../../endpoint";

/** A year and a bit: cohorts and dimensions beyond that are one query over everything, which we refuse. */
const MAX_DAYS = 400;
const DAY_MS = 86_400_000;

export const optionalDate = v.optional(
  v.pipe(
    v.string(),
    v.regex(/^\d{4}-\d{2}-\d{2}/, "must be a date (YYYY-MM-DD)"),
    v.transform((s) => new Date(`${s.slice(0, 10)}T00:00:00Z`)),
    v.check((d) => !Number.isNaN(d.getTime()), "is not a date"),
  ),
);

/** Missing dates default to the last 30 days up to today (UTC); end before start or too long a range → 422. */
export function dateRange(startAt: Date | undefined, endAt: Date | undefined): { start: Date; end: Date } {
  const today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
  const end = endAt ?? today;
  const start = startAt ?? new Date(end.getTime() - 29 * DAY_MS);
  if (end < start) throw ApiError.unprocessable("end_at must not be before start_at");
  if ((end.getTime() - start.getTime()) / DAY_MS >= MAX_DAYS) throw ApiError.unprocessable(`The range must be at most ${MAX_DAYS} days`);
  return { start, end };
}

const body = v.object({
  start_at: optionalDate,
  end_at: optionalDate,
  // As Mastodon: any other value means day.
  frequency: v.optional(v.pipe(v.string(), v.maxLength(20), v.transform((f) => (f === "month" ? ("month" as const) : ("day" as const))))),
});

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "+00:00");

export function adminRetentionRoutes(context: AppContext) {
  return routes(context, "admin-retention", (r) => {
    r.post(
      "/api/v1/admin/retention",
      { auth: "user", role: "Moderator", scopes: ["admin:read"], body, tags: ["admin"], summary: "Calculate retention data" },
      async ({ input }) => {
        // Mastodon answers [] when a parameter is missing rather than failing.
        if (!input.body.start_at || !input.body.end_at) return [];
        const { start, end } = dateRange(input.body.start_at, input.body.end_at);
        const cohorts = await retention(context.sql, start, end, input.body.frequency ?? "day");
        return cohorts.map((c) => ({
          period: iso(c.period),
          frequency: c.frequency,
          data: c.data.map((d) => ({ date: iso(d.date), rate: d.rate, value: String(d.value) })),
        }));
      },
    );
  });
}
