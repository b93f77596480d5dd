/**
 * The streaming role's HTTP application. For now it answers its health check; the WebSocket and SSE
 * streams are the streaming issue's work and plug in here.
 */
import { Elysia } from "elysia";
import { baseApp } from "../api/app";
import type { AppContext } from "../infra/context";

export function streamingRoutes() {
  return new Elysia({ name: "streaming-routes" }).get("/api/v1/streaming/health", ({ set }) => {
    set.headers["content-type"] = "text/plain; charset=utf-8";
    set.headers["cache-control"] = "no-store";
    return "OK";
  });
}

export function buildStreamingApp(context: AppContext) {
  return new Elysia({ name: "streaming" }).use(baseApp(context, "streaming-base")).use(streamingRoutes());
}
