/**
 * POST /api/v1/statuses/:id/translate. Woolly has no translation service (translation_languages is empty
 * and /api/v2/instance says translation is disabled), so a visible status gets the 503 Mastodon sends when
 * its translator is unavailable; an invisible or unknown one stays a 404, never revealing it exists.
 */
import * as v from "valibot";
import { findVisibleStatus } from "../../features/statuses/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";

const params = v.object({ id: v.pipe(v.string(), v.maxLength(64)) });
const body = v.object({ lang: v.optional(v.pipe(v.string(), v.maxLength(16, "is too long"))) });

export function translateRoutes(context: AppContext) {
  return routes(context, "translate", (r) => {
    r.post(
      "/api/v1/statuses/:id/translate",
      { auth: "user", scopes: ["read", "read:statuses"], params, body, summary: "Translate a status", tags: ["statuses"] },
      async ({ input, caller }) => {
        await findVisibleStatus(context.sql, caller.account!.id, input.params.id);
        throw new ApiError(503, "Translation service is not configured on this server");
      },
    );
  });
}
