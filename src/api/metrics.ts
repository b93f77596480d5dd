/**
 * GET /metrics (Prometheus text) and the per-request HTTP series. The hook is global so it sees every route
 * of the app; it must be plugged in before the routes it should measure (Elysia applies a hook to routes
 * registered after it), which is why routes.ts lists this plugin first.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { METRICS_CONTENT_TYPE, metricsAccess, recordHttpRequest, renderMetrics, setStreamingConnections } from "../infra/metrics";
import { streamingMetrics } from "../streaming/metrics";

export function metricsRoutes(context: AppContext) {
  return new Elysia({ name: "metrics" })
    .onAfterResponse({ as: "global" }, (ctx) => {
      const { request, set } = ctx;
      const meta = (ctx as { meta?: { startedAt: number } }).meta;
      // `route` is the matched template (`/api/v1/statuses/:id`); unmatched paths share one label value.
      const route = (ctx as { route?: string }).route || undefined;
      const status = typeof set.status === "number" ? set.status : 200;
      recordHttpRequest(request.method, route, status, meta ? (performance.now() - meta.startedAt) / 1000 : 0);
    })
    .get("/metrics", (ctx) => handleScrape(context, ctx.request, ctx.server?.requestIP(ctx.request)?.address, ctx.set));
}

/** Shared by the web route and the metrics-only listener of the other roles. */
export async function handleScrape(
  context: AppContext,
  request: Request,
  peer: string | undefined,
  set: { status?: number | string; headers: Record<string, string | number> },
): Promise<string | { error: string }> {
  const forwarded = request.headers.has("x-forwarded-for") || request.headers.has("forwarded");
  const access = metricsAccess(context.config.metrics.token, request.headers.get("authorization"), peer, forwarded);
  if (access !== 200) {
    set.status = access;
    if (access === 401) set.headers["www-authenticate"] = 'Bearer realm="metrics"';
    return { error: access === 401 ? "The access token is invalid" : "This action is not allowed" };
  }
  // The streaming role's own counters (streaming/metrics.ts) are plain numbers; copy them in at scrape time.
  setStreamingConnections("websocket", streamingMetrics.websocketClients);
  setStreamingConnections("eventsource", streamingMetrics.sseClients);
  set.headers["content-type"] = METRICS_CONTENT_TYPE;
  set.headers["cache-control"] = "no-store";
  return renderMetrics(context);
}
