/**
 * Hashtags a user follows: GET /api/v1/tags/:name, POST /api/v1/tags/:name/{follow,unfollow},
 * GET /api/v1/followed_tags. Names are matched case-insensitively (tags.name is stored lower-cased).
 */
import * as v from "valibot";
import * as graph from "../../features/graph/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { renderTags } from "../entities/tag";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";

/** Mastodon's FollowedTagsController: 100 by default, 200 at most. */
const TAGS_LIMIT = 100;
const nameParams = v.object({ name: v.pipe(v.string(), v.maxLength(1000, "is too long")) });

/** Path params may arrive still percent-encoded (non-ASCII names); a stray "%" is just a bad name. */
function tagName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function tagRoutes(context: AppContext) {
  return routes(context, "tags", (r) => {
    r.get(
      "/api/v1/tags/:name",
      { auth: "optional", scopes: ["read", "read:statuses"], params: nameParams, summary: "View information about a single tag", tags: ["tags"] },
      async ({ input, caller }) => {
        const tag = await graph.findTag(context.sql, tagName(input.params.name));
        if (!tag) throw ApiError.notFound();
        const following = caller?.account ? await graph.followsTag(context.sql, caller.account, tag.id) : undefined;
        return (await renderTags(context, [tag], following))[0];
      },
    );

    r.post(
      "/api/v1/tags/:name/follow",
      { auth: "user", scopes: ["follow", "write:follows"], params: nameParams, summary: "Follow a hashtag", tags: ["tags"] },
      async ({ input, caller }) => {
        const tag = await graph.followTag(context, caller.account!, tagName(input.params.name));
        return (await renderTags(context, [tag], true))[0];
      },
    );

    r.post(
      "/api/v1/tags/:name/unfollow",
      { auth: "user", scopes: ["follow", "write:follows"], params: nameParams, summary: "Unfollow a hashtag", tags: ["tags"] },
      async ({ input, caller }) => {
        const tag = await graph.unfollowTag(context, caller.account!, tagName(input.params.name));
        return (await renderTags(context, [tag], false))[0];
      },
    );

    r.get(
      "/api/v1/followed_tags",
      { auth: "user", scopes: ["follow", "read:follows"], query: v.object(paginationEntries), summary: "View all followed tags", tags: ["followed_tags"] },
      async ({ input, caller, request, set }) => {
        const page = pageParams(input.query, TAGS_LIMIT);
        const rows = inDisplayOrder(await graph.followedTagRows(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`x.id`, page)), page);
        const link = linkHeader(request.url, context.config.baseUrl, rows.map((row) => row.cursor));
        if (link) set.headers.link = link;
        return renderTags(context, rows, true);
      },
    );
  });
}
