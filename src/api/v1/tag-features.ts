/**
 * POST /api/v1/tags/:name/{feature,unfeature} (Mastodon 4.4): feature a hashtag on your profile by name,
 * the tag-page counterpart of /api/v1/featured_tags. Both are idempotent, as Mastodon's, and answer the Tag
 * with `featuring`. Same featured_tags rows and limits as featured-tags.ts.
 */
import * as v from "valibot";
import * as featured from "../../features/featured-tags/service";
import * as graph from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import type { LocalAccountRow } from "../../features/accounts/service";
import { routes } from "../endpoint";
import { renderTags } from "../entities/tag";

const WRITE = ["write", "write:accounts"] as const;
const nameParams = v.object({ name: v.pipe(v.string(), v.maxLength(1000, "is too long")) });

/** Path params may arrive still percent-encoded (non-ASCII names); a stray "%" is just a bad name. */
function tagName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

async function featuredRowFor(context: AppContext, account: LocalAccountRow, tagId: string) {
  return (await featured.featuredTagsOf(context.sql, account.id)).find((row) => row.tag_id === tagId);
}

async function renderTag(context: AppContext, account: LocalAccountRow, tag: NonNullable<Awaited<ReturnType<typeof graph.findTag>>>, featuring: boolean) {
  const following = await graph.followsTag(context.sql, account, tag.id);
  return { ...(await renderTags(context, [tag], following))[0]!, featuring };
}

export function tagFeatureRoutes(context: AppContext) {
  return routes(context, "tag-features", (r) => {
    r.post("/api/v1/tags/:name/feature", { auth: "user", scopes: WRITE, params: nameParams, summary: "Feature a hashtag", tags: ["tags"] }, async ({ input, caller }) => {
      const me = caller.account!;
      const name = tagName(input.params.name);
      const existing = await graph.findTag(context.sql, name);
      // Already featured: nothing to do (featureTag would refuse the duplicate with a 422).
      if (!existing || !(await featuredRowFor(context, me, existing.id))) await featured.featureTag(context.sql, me.id, name);
      const tag = existing ?? (await graph.findTag(context.sql, name));
      if (!tag) throw ApiError.notFound();
      return renderTag(context, me, tag, true);
    });

    r.post("/api/v1/tags/:name/unfeature", { auth: "user", scopes: WRITE, params: nameParams, summary: "Unfeature a hashtag", tags: ["tags"] }, async ({ input, caller }) => {
      const me = caller.account!;
      const tag = await graph.findTag(context.sql, tagName(input.params.name));
      if (!tag) throw ApiError.notFound();
      const row = await featuredRowFor(context, me, tag.id);
      if (row) await featured.unfeatureTag(context.sql, me.id, row.id);
      return renderTag(context, me, tag, false);
    });
  });
}
