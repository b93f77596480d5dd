/**
 * The application on the web port, built the same way by the main thread and by every extra web thread
 * (cli/roles/web-threads.ts). In `woolly all` the web port carries the streaming API too (some clients,
 * Ice Cubes among them, stream from the API host), read through the given hub.
 */
import { Elysia } from "elysia";
import { buildWebApp } from "../../api/app";
import type { AppContext } from "../../infra/context";
import { STREAMING_WEBSOCKET_OPTIONS, streamingRoutes } from "../../streaming/app";
import type { StreamingHub } from "../../streaming/hub";

export function webPortApp(context: AppContext, hub?: StreamingHub) {
  if (!hub) return buildWebApp(context);
  return new Elysia({ websocket: STREAMING_WEBSOCKET_OPTIONS }).use(buildWebApp(context)).use(streamingRoutes(context, hub));
}
