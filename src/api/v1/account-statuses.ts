/**
 * GET /api/v1/accounts/:id/statuses: an account's posts and boosts, newest first, paged by status id, with
 * Mastodon's filters (pinned, exclude_replies, exclude_reblogs, only_media, tagged). Only what the viewer may
 * see (features/statuses/visibility.ts) is listed; rendering is the statuses entity's.
 */
import * as v from "valibot";
import * as graph from "../../features/graph/service";
import { visibleTo } from "../../features/statuses/visibility";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { applyFilters } from "../filtering";
import { renderStatuses } from "../entities/status";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";
import { flag, idParams, targetAccount } from "./graph";

/** Mastodon's statuses lists: 20 by default, 40 at most. */
const STATUSES_LIMIT = 20;

const query = v.object({
  ...paginationEntries,
  pinned: v.optional(flag),
  exclude_replies: v.optional(flag),
  exclude_reblogs: v.optional(flag),
  only_media: v.optional(flag),
  tagged: v.optional(v.pipe(v.string(), v.maxLength(1000, "is too long"))),
});

export function accountStatusesRoutes(context: AppContext) {
  return routes(context, "account-statuses", (r) => {
    r.get(
      "/api/v1/accounts/:id/statuses",
      { auth: "optional", scopes: ["read", "read:statuses"], params: idParams, query, summary: "Get account's statuses", tags: ["accounts"] },
      async ({ input, caller, request, set }) => {
        const account = await targetAccount(context, input.params.id);
        const page = pageParams(input.query, STATUSES_LIMIT);
        // A suspended account shows nothing it wrote; a tag that cannot exist matches nothing.
        if (account.suspended_at) return [];
        const q = input.query;
        let tagged: string | undefined;
        if (q.tagged !== undefined && q.tagged !== "") {
          const normal = graph.normalizeTagName(q.tagged);
          if (!normal) return [];
          tagged = normal.name;
        }
        const viewer = caller?.account;
        const ids = inDisplayOrder(
          await graph.accountStatusIds(
            context.sql,
            account.id,
            { pinned: q.pinned ?? false, excludeReplies: q.exclude_replies ?? false, excludeReblogs: q.exclude_reblogs ?? false, onlyMedia: q.only_media ?? false, tagged },
            visibleTo(context.sql, viewer?.id),
            pageWhere(context.sql, context.sql`s.id`, page),
          ),
          page,
        );
        const link = linkHeader(request.url, context.config.baseUrl, ids);
        if (link) set.headers.link = link;
        return applyFilters(context, viewer, "account", await renderStatuses(context, viewer, ids));
      },
    );
  });
}
