/**
 * POST /api/v1/admin/measures: daily counts for the dashboard. Woolly answers the keys it can count from
 * what it stores (new_users, active_users — by last sign-in —, interactions, opened_reports,
 * resolved_reports); other keys are left out of the answer, as Mastodon does with unknown ones.
 */
import * as v from "valibot";
import * as admin from "../../../features/admin/service";
import type { AppContext } from "../../../infra/context";
import { ApiError } from "../../../infra/errors";
import { routes } from "../../endpoint";
import { renderAdminMeasure } from "../../entities/admin/measure";

const MAX_DAYS = 366;
const date = v.pipe(v.string("is missing"), v.regex(/^\d{4}-\d{2}-\d{2}/, "must be a date (YYYY-MM-DD)"), v.transform((s) => new Date(`${s.slice(0, 10)}T00:00:00Z`)), v.check((d) => !Number.isNaN(d.getTime()), "is not a date"));
const body = v.object({
  keys: v.pipe(v.union([v.string(), v.array(v.string())], "must be a list of keys"), v.transform((k) => (Array.isArray(k) ? k : [k])), v.maxLength(20, "has too many keys")),
  start_at: date,
  end_at: date,
});

export function adminMeasureRoutes(context: AppContext) {
  return routes(context, "admin-measures", (r) => {
    r.post(
      "/api/v1/admin/measures",
      { auth: "user", role: "Moderator", scopes: ["admin:read"], body, tags: ["admin"], summary: "Get measurable data" },
      async ({ input }) => {
        const { start_at: start, end_at: end } = input.body;
        if (end < start) throw ApiError.unprocessable("end_at must not be before start_at");
        if ((end.getTime() - start.getTime()) / 86_400_000 >= MAX_DAYS) throw ApiError.unprocessable(`The range must be at most ${MAX_DAYS} days`);
        const keys = [...new Set(input.body.keys)].filter((k): k is admin.MeasureKey => (admin.MEASURE_KEYS as readonly string[]).includes(k));
        return (await admin.measures(context.sql, keys, start, end)).map(renderAdminMeasure);
      },
    );
  });
}
