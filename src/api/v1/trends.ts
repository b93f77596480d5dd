/**
 * Trends: GET /api/v1/trends/tags (and its old name /api/v1/trends), /api/v1/trends/statuses and
 * /api/v1/trends/links. Read from the tables the trends.refresh job fills (features/trends); limits as
 * Mastodon's (tags and links 10 by default, 20 at most; statuses 20, 40), paged by offset with a Link header.
 */
import * as v from "valibot";
import * as trends from "../../features/trends/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderCard } from "../entities/preview-card";
import { renderStatuses } from "../entities/status";
import { renderTags } from "../entities/tag";
import { limitParam, offsetParam } from "../v2/search";

const pageQuery = v.object({ limit: v.optional(v.pipe(v.string(), v.maxLength(12))), offset: v.optional(v.pipe(v.string(), v.maxLength(12))) });
/** Offsets past the kept trends (200 per kind) find nothing anyway. */
const MAX_TRENDS_OFFSET = 1000;

/** Mastodon pages trends by offset: `Link: <…?offset=N>; rel="next"` when the page was full. */
function offsetLink(set: { headers: Record<string, string | number> }, request: Request, baseUrl: string, offset: number, limit: number, count: number) {
  if (count < limit) return;
  const url = new URL(request.url);
  url.searchParams.set("offset", String(offset + limit));
  set.headers.link = `<${baseUrl}${url.pathname}?${url.searchParams}>; rel="next"`;
}

export function trendRoutes(context: AppContext) {
  return routes(context, "trends", (r) => {
    for (const path of ["/api/v1/trends/tags", "/api/v1/trends"]) {
      r.get(path, { auth: "optional", query: pageQuery, summary: "View trending tags", tags: ["trends"] }, async ({ input, request, set }) => {
        const limit = limitParam(input.query.limit, 10, 20);
        const offset = offsetParam(input.query.offset, MAX_TRENDS_OFFSET);
        const rows = await trends.trendingTags(context.sql, limit, offset);
        offsetLink(set, request, context.config.baseUrl, offset, limit, rows.length);
        return renderTags(context, rows);
      });
    }

    r.get("/api/v1/trends/statuses", { auth: "optional", query: pageQuery, summary: "View trending statuses", tags: ["trends"] }, async ({ input, caller, request, set }) => {
      const limit = limitParam(input.query.limit, 20, 40);
      const offset = offsetParam(input.query.offset, MAX_TRENDS_OFFSET);
      const ids = await trends.trendingStatusIds(context.sql, limit, offset);
      offsetLink(set, request, context.config.baseUrl, offset, limit, ids.length);
      // Trending posts are public, but a viewer blocked by the author still must not see them (visibleTo).
      return renderStatuses(context, caller?.account, ids);
    });

    r.get("/api/v1/trends/links", { auth: "optional", query: pageQuery, summary: "View trending links", tags: ["trends"] }, async ({ input, request, set }) => {
      const limit = limitParam(input.query.limit, 10, 20);
      const offset = offsetParam(input.query.offset, MAX_TRENDS_OFFSET);
      const rows = await trends.trendingLinks(context.sql, limit, offset);
      offsetLink(set, request, context.config.baseUrl, offset, limit, rows.length);
      return rows.map((row) => ({ ...renderCard(row), history: trends.historyWindow(row.history) }));
    });
  });
}
