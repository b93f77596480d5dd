/**
 * /api/v1/admin/trends/{tags,statuses,links}: everything trending, reviewed or not, and approving or
 * rejecting it; /api/v1/admin/trends/links/publishers: the sites links come from (features/trends).
 * Mastodon's manage_taxonomies permission, which moderators have. Lists page by offset like the public
 * trends; publishers page by id with a Link header.
 */
import * as v from "valibot";
import * as trends from "../../../features/trends/service";
import type { AppContext } from "../../../infra/context";
import { ApiError } from "../../../infra/errors";
import { routes } from "../../endpoint";
import { renderCard } from "../../entities/preview-card";
import { renderStatuses } from "../../entities/status";
import { renderTag } from "../../entities/tag";
import { paginationEntries } from "../../pagination";
import { limitParam, offsetParam } from "../../v2/search";
import { idParams, paged } from "./common";

const MODS = { auth: "user" as const, role: "Moderator" as const, tags: ["admin"] };
const read = { ...MODS, scopes: ["admin:read"] } as const;
const write = { ...MODS, scopes: ["admin:write"] } as const;

const pageQuery = v.object({ limit: v.optional(v.pipe(v.string(), v.maxLength(12))), offset: v.optional(v.pipe(v.string(), v.maxLength(12))) });
/** The trends job keeps 200 of each kind: offsets past that find nothing. */
const MAX_OFFSET = 1000;

function offsetPage(query: v.InferOutput<typeof pageQuery>, defaultLimit: number, maxLimit: number) {
  return { limit: limitParam(query.limit, defaultLimit, maxLimit), offset: offsetParam(query.offset, MAX_OFFSET) };
}

/** `Link: <…?offset=N>; rel="next"` when the page was full, as the public trends. */
function nextLink(context: AppContext, set: { headers: Record<string, string | number> }, request: Request, page: { limit: number; offset: number }, count: number) {
  if (count < page.limit) return;
  const url = new URL(request.url);
  url.searchParams.set("offset", String(page.offset + page.limit));
  set.headers.link = `<${context.config.baseUrl}${url.pathname}?${url.searchParams}>; rel="next"`;
}

type AdminTagRow = trends.TrendingTagRow & { usable: boolean; review: boolean | null };

export function adminTrendRoutes(context: AppContext) {
  const renderAdminTags = async (rows: AdminTagRow[]) => {
    const histories = await trends.tagHistories(context.sql, rows.map((r) => r.id));
    // Admin::Tag: the Tag entity plus its review. Not reviewed still trends here (see features/trends).
    return rows.map((row) => ({
      ...renderTag(context.config, row, undefined, histories.get(row.id)),
      trendable: row.review !== false,
      usable: row.usable,
      requires_review: row.review === null,
    }));
  };
  const renderLink = (row: trends.AdminTrendingLinkRow) => ({
    id: row.id,
    ...renderCard(row, context.config.baseUrl),
    history: trends.historyWindow(row.history),
    trendable: row.allowed,
    requires_review: row.review === null,
  });
  const renderPublisher = (row: trends.PublisherRow) => ({
    id: row.id,
    domain: row.domain,
    // As for tags and links: not reviewed yet still trends.
    trendable: row.trendable !== false,
    reviewed_at: row.reviewed_at?.toISOString() ?? null,
    requested_review_at: row.requested_review_at?.toISOString() ?? null,
    requires_review: row.trendable === null,
  });

  return routes(context, "admin-trends", (r) => {
    r.get("/api/v1/admin/trends/tags", { ...read, query: pageQuery, summary: "View trending tags, reviewed or not" }, async ({ input, request, set }) => {
      const page = offsetPage(input.query, 10, 20);
      const rows = await trends.adminTrendingTags(context.sql, page.limit, page.offset);
      nextLink(context, set, request, page, rows.length);
      return renderAdminTags(rows);
    });
    r.get("/api/v1/admin/trends/statuses", { ...read, query: pageQuery, summary: "View trending statuses, reviewed or not" }, async ({ input, request, set, caller }) => {
      const page = offsetPage(input.query, 20, 40);
      const rows = await trends.adminTrendingStatuses(context.sql, page.limit, page.offset);
      nextLink(context, set, request, page, rows.length);
      const review = new Map(rows.map((row) => [row.status_id, row.review]));
      const statuses = await renderStatuses(context, caller.account, rows.map((row) => row.status_id));
      return statuses.map((status) => ({ ...status, requires_review: review.get(status.id) === null }));
    });
    r.get("/api/v1/admin/trends/links", { ...read, query: pageQuery, summary: "View trending links, reviewed or not" }, async ({ input, request, set }) => {
      const page = offsetPage(input.query, 10, 20);
      const rows = await trends.adminTrendingLinks(context.sql, page.limit, page.offset);
      nextLink(context, set, request, page, rows.length);
      return rows.map(renderLink);
    });
    r.get("/api/v1/admin/trends/links/publishers", { ...read, query: v.object(paginationEntries), summary: "View the publishers of trending links" }, async ({ input, request, set }) =>
      (await paged(context, input.query, request, set, (page) => trends.listPublishers(context.sql, page), 10)).map(renderPublisher),
    );

    for (const [action, trendable] of [
      ["approve", true],
      ["reject", false],
    ] as const) {
      const verb = action === "approve" ? "Approve" : "Reject";
      r.post(`/api/v1/admin/trends/tags/:id/${action}`, { ...write, params: idParams, summary: `${verb} a trending tag` }, async ({ input, caller }) =>
        (await renderAdminTags([await trends.reviewTag(context.sql, input.params.id, trendable, caller.account!.id)]))[0],
      );
      r.post(`/api/v1/admin/trends/statuses/:id/${action}`, { ...write, params: idParams, summary: `${verb} a trending status` }, async ({ input, caller }) => {
        await trends.reviewStatus(context.sql, input.params.id, trendable, caller.account!.id);
        const [status] = await renderStatuses(context, caller.account, [input.params.id]);
        if (!status) throw ApiError.notFound();
        return { ...status, requires_review: false };
      });
      r.post(`/api/v1/admin/trends/links/:id/${action}`, { ...write, params: idParams, summary: `${verb} a trending link` }, async ({ input, caller }) =>
        renderLink(await trends.reviewLink(context.sql, input.params.id, trendable, caller.account!.id)),
      );
      r.post(`/api/v1/admin/trends/links/publishers/:id/${action}`, { ...write, params: idParams, summary: `${verb} a publisher of links` }, async ({ input }) =>
        renderPublisher(await trends.reviewPublisher(context.sql, input.params.id, trendable)),
      );
    }
  });
}
