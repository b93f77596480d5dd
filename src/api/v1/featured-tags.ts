/**
 * Featured tags: GET/POST /api/v1/featured_tags, DELETE /api/v1/featured_tags/:id,
 * GET /api/v1/featured_tags/suggestions (your most used hashtags, as Tag entities) and
 * GET /api/v1/accounts/:id/featured_tags (anyone's, public).
 */
import * as v from "valibot";
import * as featured from "../../features/featured-tags/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderFeaturedTag } from "../entities/featured-tag";
import { renderTags } from "../entities/tag";
import { idParams, targetAccount } from "./graph";

const READ = ["read", "read:accounts"] as const;
const WRITE = ["write", "write:accounts"] as const;
const TAGS = ["featured_tags"];

export function featuredTagRoutes(context: AppContext) {
  return routes(context, "featured-tags", (r) => {
    r.get("/api/v1/featured_tags", { auth: "user", scopes: READ, summary: "View your featured tags", tags: TAGS }, async ({ caller }) => {
      const me = caller.account!;
      return (await featured.featuredTagsOf(context.sql, me.id)).map((row) => renderFeaturedTag(context.config, row, me.username));
    });

    r.post(
      "/api/v1/featured_tags",
      { auth: "user", scopes: WRITE, body: v.object({ name: v.optional(v.pipe(v.string(), v.maxLength(1000, "is too long"))) }), summary: "Feature a tag", tags: TAGS },
      async ({ input, caller }) => {
        const me = caller.account!;
        return renderFeaturedTag(context.config, await featured.featureTag(context.sql, me.id, input.body.name), me.username);
      },
    );

    r.get("/api/v1/featured_tags/suggestions", { auth: "user", scopes: READ, summary: "View suggested tags to feature", tags: TAGS }, async ({ caller }) =>
      renderTags(context, await featured.suggestedTags(context.sql, caller.account!.id)),
    );

    r.delete("/api/v1/featured_tags/:id", { auth: "user", scopes: WRITE, params: idParams, summary: "Unfeature a tag", tags: TAGS }, async ({ input, caller }) => {
      await featured.unfeatureTag(context.sql, caller.account!.id, input.params.id);
      return {};
    });

    r.get("/api/v1/accounts/:id/featured_tags", { auth: "optional", scopes: READ, params: idParams, summary: "Get account's featured tags", tags: ["accounts"] }, async ({ input }) => {
      const account = await targetAccount(context, input.params.id);
      if (account.suspended_at) return [];
      return (await featured.featuredTagsOf(context.sql, account.id)).map((row) => renderFeaturedTag(context.config, row, account.username));
    });
  });
}
