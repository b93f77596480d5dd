/**
 * GET /api/v1/donation_campaigns (Mastodon 4.4+): Mastodon asks a configured campaigns service and answers
 * 204 No Content when there is none to show. Woolly has no such service, so the answer is always that 204 —
 * what clients already handle — rather than a 404 that reads as a broken server.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";

export function donationCampaignRoutes(context: AppContext) {
  return routes(context, "donation-campaigns", (r) => {
    r.get(
      "/api/v1/donation_campaigns",
      {
        auth: "user",
        scopes: ["read"],
        query: v.object({ locale: v.optional(v.pipe(v.string(), v.maxLength(20))), seed: v.optional(v.pipe(v.string(), v.maxLength(20))) }),
        summary: "Donation campaigns (none)",
        tags: ["donation_campaigns"],
      },
      () => new Response(null, { status: 204 }),
    );
  });
}
