/**
 * The web role's HTTP application. Cross-cutting behaviour lives here once: request ids, the client address
 * behind trusted proxies, one JSON log line per request, and Mastodon-shaped errors. Feature routes are
 * plugged in from their own files.
 */
import { Elysia } from "elysia";
import { answerFromHot } from "../activitypub/hot-answers";
import type { AppContext } from "../infra/context";
import { ApiError, isServiceUnavailable } from "../infra/errors";
import { log, logEnabled } from "../infra/log";
import { TrustedProxies } from "./client-ip";
import { docsRoutes } from "./docs";
import { healthRoutes } from "./health";
import { webRoutes } from "./routes";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface RequestMeta {
  requestId: string;
  clientIp: string;
  /** The scheme the client used, as told by a trusted proxy (X-Forwarded-Proto) or seen directly. */
  protocol: "http" | "https";
  startedAt: number;
}

/** Cross-cutting request handling, shared by the web and streaming roles. */
export function baseApp(context: AppContext, name: string) {
  const proxies = new TrustedProxies(context.config.trustedProxies);
  const metaByRequest = new WeakMap<Request, RequestMeta>();

  return new Elysia({ name })
    .onRequest(({ request, server, set }) => {
      const incoming = request.headers.get("x-request-id");
      const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
      const peer = server?.requestIP(request)?.address ?? "0.0.0.0";
      const clientIp = proxies.clientIp(peer, request.headers.get("x-forwarded-for"));
      const forwardedProto = proxies.isTrusted(peer) ? request.headers.get("x-forwarded-proto") : null;
      const protocol = forwardedProto === "https" || (!forwardedProto && request.url.startsWith("https:")) ? "https" : "http";
      metaByRequest.set(request, { requestId, clientIp, protocol, startedAt: performance.now() });
      // A public ActivityPub/HTML face served within the last second: answered before routing (fetch bursts).
      // Its header is set on the Response itself: with `set.headers` non-empty Elysia would copy the whole
      // Response (new Headers, body re-streamed), which cost more than everything else on this path.
      const hot = answerFromHot(context, request);
      if (hot) {
        hot.headers.set("x-request-id", requestId);
        return hot;
      }
      set.headers["x-request-id"] = requestId;
    })
    .derive({ as: "global" }, ({ request }) => ({ meta: metaByRequest.get(request)! }))
    .onAfterResponse({ as: "global" }, ({ request, set }) => {
      if (!logEnabled("info")) return;
      const meta = metaByRequest.get(request);
      const url = new URL(request.url);
      log.info("request", {
        request_id: meta?.requestId,
        method: request.method,
        path: url.pathname,
        status: typeof set.status === "number" ? set.status : 200,
        ms: meta ? Math.round((performance.now() - meta.startedAt) * 10) / 10 : undefined,
        ip: meta?.clientIp,
      });
    })
    .onError({ as: "global" }, ({ code, error, request, set }) => {
      const path = new URL(request.url).pathname;
      if (error instanceof ApiError) {
        set.status = error.status;
        return error.body();
      }
      if (code === "NOT_FOUND") {
        set.status = 404;
        if (path.startsWith("/api/") || path.startsWith("/oauth/")) return { error: "Record not found" };
        set.headers["content-type"] = "text/plain; charset=utf-8";
        return "Not Found";
      }
      if (code === "PARSE") {
        set.status = 400;
        return { error: "The request body could not be parsed" };
      }
      if (code === "VALIDATION") {
        set.status = 422;
        return { error: "Validation failed" };
      }
      if (isServiceUnavailable(error)) {
        set.status = 503;
        log.warn("backing service unavailable", { path, error: (error as Error).message });
        return { error: "Service temporarily unavailable" };
      }
      set.status = 500;
      log.error("unhandled error", { path, error });
      return { error: "Internal server error" };
    });
}

export function buildWebApp(context: AppContext) {
  const app = new Elysia({ name: "web" }).use(baseApp(context, "web-base")).use(healthRoutes(context));
  for (const plugin of webRoutes(context)) app.use(plugin);
  return app.use(docsRoutes());
}
