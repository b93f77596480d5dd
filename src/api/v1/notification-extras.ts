/**
 * Notification routes Mastodon still routes besides those in notifications.ts and v2/notifications.ts:
 * POST /api/v2/notifications/clear (same as the v1 clear) and the old DELETE
 * /api/v1/notifications/destroy_multiple?ids[]= (dismiss several at once; unknown ids are ignored, as Mastodon).
 */
import * as v from "valibot";
import * as notifications from "../../features/notifications/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";

const WRITE = ["write", "write:notifications"] as const;
const MAX_IDS = 100;
const ID = /^\d{1,19}$/;

const idsQuery = v.object({
  ids: v.pipe(
    v.union([v.string(), v.array(v.string())], "must be a list of ids"),
    v.transform((ids) => (Array.isArray(ids) ? ids : [ids])),
    v.maxLength(MAX_IDS, `must have at most ${MAX_IDS} ids`),
  ),
});

export function notificationExtraRoutes(context: AppContext) {
  return routes(context, "notification-extras", (r) => {
    r.post("/api/v2/notifications/clear", { auth: "user", scopes: WRITE, summary: "Dismiss all notifications", tags: ["notifications"] }, async ({ caller }) => {
      await notifications.clearNotifications(context.sql, caller.account!.id);
      return {};
    });

    r.delete(
      "/api/v1/notifications/destroy_multiple",
      { auth: "user", scopes: WRITE, query: idsQuery, summary: "Dismiss several notifications (deprecated)", tags: ["notifications"] },
      async ({ input, caller }) => {
        // Malformed ids can match nothing; skipping them keeps bigint casts out of the query.
        const ids = [...new Set(input.query.ids.filter((id) => ID.test(id) && BigInt(id) <= 9223372036854775807n))];
        await context.sql.begin(async (tx) => {
          for (const id of ids) await notifications.dismissNotification(tx, caller.account!.id, id);
        });
        return {};
      },
    );
  });
}
