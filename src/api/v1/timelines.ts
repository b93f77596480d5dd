/**
 * Timelines: GET /api/v1/timelines/home (the account's Redis feed), /public and /tag/:hashtag (Postgres),
 * /link (trending links are not kept yet: always empty). Newest first, paged by status id with Mastodon's
 * Link header; statuses are rendered by the statuses entity, which drops anything no longer visible.
 */
import * as v from "valibot";
import * as timelines from "../../features/timelines/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { applyFilters } from "../filtering";
import { renderSelectedStatuses, renderStatuses } from "../entities/status";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";
import { flag } from "./graph";

/** Mastodon's timelines: 20 by default, 40 at most. */
const TIMELINE_LIMIT = 20;
const READ = ["read", "read:statuses"] as const;

/** Rails' `any[]=a&any[]=b`; a lone `any=a` is taken as a one-element list. Bounded: each name, and how many. */
const tagList = v.pipe(
  v.union([v.string(), v.array(v.string())], "must be a list of hashtags"),
  v.transform((value) => (Array.isArray(value) ? value : [value])),
  v.maxLength(20, "has too many hashtags (maximum is 20)"),
  v.check((list) => list.every((name) => name.length <= 255), "has a hashtag that is too long"),
);

const publicQuery = v.object({
  ...paginationEntries,
  local: v.optional(flag),
  remote: v.optional(flag),
  only_media: v.optional(flag),
});

const tagQuery = v.object({
  ...paginationEntries,
  local: v.optional(flag),
  remote: v.optional(flag),
  only_media: v.optional(flag),
  any: v.optional(tagList),
  all: v.optional(tagList),
  none: v.optional(tagList),
});

export function timelineRoutes(context: AppContext) {
  const setLink = (set: { headers: Record<string, string | number> }, request: Request, cursors: string[]) => {
    const link = linkHeader(request.url, context.config.baseUrl, cursors);
    if (link) set.headers.link = link;
  };

  return routes(context, "timelines", (r) => {
    r.get(
      "/api/v1/timelines/home",
      { auth: "user", scopes: READ, query: v.object(paginationEntries), summary: "View home timeline", tags: ["timelines"] },
      async ({ input, caller, request, set }) => {
        const viewer = caller.account!;
        const page = pageParams(input.query, TIMELINE_LIMIT);
        const { cursors, ids, where } = await timelines.homePage(context, viewer.id, page);
        // The cursors cover the whole page read from the feed, so a status hidden since (muted, deleted)
        // neither ends the paging early nor makes the next page repeat anything.
        setLink(set, request, cursors);
        return applyFilters(context, viewer, "home", await renderStatuses(context, viewer, ids, { where }));
      },
    );

    r.get(
      "/api/v1/timelines/public",
      { auth: "optional", scopes: READ, query: publicQuery, summary: "View public timeline", tags: ["timelines"] },
      async ({ input, caller, request, set }) => {
        const viewer = caller?.account;
        const page = pageParams(input.query, TIMELINE_LIMIT);
        const q = input.query;
        const select = timelines.publicPage(context, viewer?.id ?? null, { local: q.local, remote: q.remote, onlyMedia: q.only_media }, pageWhere(context.sql, context.sql`s.id`, page));
        // One statement picks the page and reads it for rendering; the ids come back newest first whatever the paging.
        const { ids, statuses } = await renderSelectedStatuses(context, viewer, select);
        setLink(set, request, ids);
        return applyFilters(context, viewer, "public", statuses);
      },
    );

    r.get(
      "/api/v1/timelines/tag/:hashtag",
      { auth: "optional", scopes: READ, params: v.object({ hashtag: v.string() }), query: tagQuery, summary: "View hashtag timeline", tags: ["timelines"] },
      async ({ input, caller, request, set }) => {
        const viewer = caller?.account;
        const page = pageParams(input.query, TIMELINE_LIMIT);
        const q = input.query;
        const ids = inDisplayOrder(
          await timelines.tagPage(
            context,
            viewer?.id ?? null,
            { hashtag: input.params.hashtag, any: q.any ?? [], all: q.all ?? [], none: q.none ?? [] },
            { local: q.local, remote: q.remote, onlyMedia: q.only_media },
            pageWhere(context.sql, context.sql`s.id`, page),
          ),
          page,
        );
        setLink(set, request, ids);
        return applyFilters(context, viewer, "public", await renderStatuses(context, viewer, ids));
      },
    );

    r.get(
      "/api/v1/timelines/link",
      { auth: "optional", scopes: READ, query: v.object({ ...paginationEntries, url: v.pipe(v.string(), v.maxLength(2048, "is too long")) }), summary: "View link timeline", tags: ["timelines"] },
      ({ input }) => {
        pageParams(input.query, TIMELINE_LIMIT);
        // Trending links (preview cards) are not recorded yet, so no status is known to link anywhere.
        return [];
      },
    );
  });
}
