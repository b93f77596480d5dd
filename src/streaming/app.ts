/**
 * The streaming role's HTTP application: GET /api/v1/streaming (WebSocket, multiplexed), the SSE paths
 * under /api/v1/streaming/…, and the health check. In `woolly all` the same routes are mounted on the web
 * port too (some clients stream from the API host), sharing one hub.
 *
 * The WebSocket is upgraded with Bun's server.upgrade inside a plain GET route rather than Elysia's .ws():
 * Elysia's wrapper JSON-parses every frame itself, allocates a wrapper object per message and keeps the
 * whole request context per socket — costs that matter at 10,000 sockets. Elysia's Bun adapter dispatches
 * socket events to `ws.data.open/message/close`, which is what `socketHandlers` provides.
 */
import type { Server, ServerWebSocket } from "bun";
import { Elysia } from "elysia";
import { baseApp, type RequestMeta } from "../api/app";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { log } from "../infra/log";
import { authenticate, offeredProtocol } from "./auth";
import { SseConnection, WebSocketConnection, type Reader } from "./connection";
import { StreamingHub } from "./hub";
import { resolveStream, streamFromPath, StreamError, type StreamRequest } from "./streams";

/** Frames above this size get an error message and are not read (Mastodon's frames are tiny). */
export const MAX_FRAME_BYTES = 16 * 1024;

/** Bun WebSocket server options for every server that carries the streaming routes. */
export const STREAMING_WEBSOCKET_OPTIONS = {
  // Larger frames close the socket with 1009 before reaching us; 16 KB–1 MB get an error message.
  maxPayloadLength: 1024 * 1024,
  // Above our own 1 MB slow-consumer limit, so ours acts first (close 1013) and Bun never drops silently.
  backpressureLimit: 4 * 1024 * 1024,
  closeOnBackpressureLimit: true,
  idleTimeout: 120,
};

export function createStreamingHub(context: AppContext): StreamingHub {
  return new StreamingHub(context, {
    maxConnectionsPerToken: context.config.streaming.maxConnectionsPerToken,
    maxConnectionsPerIp: context.config.streaming.maxConnectionsPerIp,
  });
}

function streamRequest(params: URLSearchParams, stream: string): StreamRequest {
  return { stream, tag: params.get("tag") ?? undefined, list: params.get("list") ?? undefined };
}

function asApiError(error: unknown): unknown {
  return error instanceof StreamError ? new ApiError(error.status, error.message) : error;
}

export function streamingRoutes(context: AppContext, hub: StreamingHub) {
  const clientIp = (request: Request, server: Server<unknown> | null, meta: RequestMeta | undefined) =>
    meta?.clientIp ?? server?.requestIP(request)?.address ?? "0.0.0.0";

  async function admit(request: Request, url: URL, ip: string): Promise<Reader> {
    const reader = await authenticate(context, request, url, ip);
    if (!hub.admits(reader.tokenId, ip)) throw new ApiError(429, "Too many streaming connections");
    return reader;
  }

  async function eventStream(reader: Reader, request: Request, server: Server<unknown> | null, wanted: StreamRequest): Promise<Response> {
    const connection: SseConnection = new SseConnection(reader, () => hub.detach(connection));
    try {
      await hub.prepareStream(connection, wanted);
      resolveStream(wanted, { accountId: reader.account.id, scopes: reader.scopes }, context.config.redis.namespace, (id) => hub.lists.owns(reader.account.id, id));
    } catch (error) {
      throw asApiError(error);
    }
    await hub.attach(connection);
    hub.subscribe(connection, wanted);
    await hub.settled();
    request.signal.addEventListener("abort", () => hub.detach(connection), { once: true });
    // The :thump heartbeat keeps the stream alive; Bun's per-request idle timeout must not cut it first.
    server?.timeout(request, 0);
    return new Response(connection.body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  return new Elysia({ name: "streaming-routes" })
    .get("/api/v1/streaming/health", ({ set }) => {
      set.headers["content-type"] = "text/plain; charset=utf-8";
      set.headers["cache-control"] = "no-store";
      return "OK";
    })
    .get("/api/v1/streaming", async (ctx) => {
      const { request, server } = ctx;
      const url = new URL(request.url);
      const ip = clientIp(request, server, (ctx as { meta?: RequestMeta }).meta);
      const reader = await admit(request, url, ip);
      const initial = url.searchParams.get("stream");
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        // Plain GET: SSE for the stream named in ?stream= (Mastodon serves both on this path).
        if (!initial) throw ApiError.badRequest("Missing stream parameter");
        return eventStream(reader, request, server, streamRequest(url.searchParams, initial));
      }
      const connection = new WebSocketConnection(reader);
      connection.server = server ?? undefined;
      await hub.attach(connection);
      const protocol = offeredProtocol(request);
      const upgraded = server?.upgrade(request, {
        // Echo the offered subprotocol, or browsers and masto.js drop the connection.
        headers: protocol ? { "Sec-WebSocket-Protocol": protocol } : undefined,
        data: socketHandlers(hub, connection, initial ? streamRequest(url.searchParams, initial) : undefined),
      });
      if (!upgraded) {
        hub.detach(connection);
        throw ApiError.badRequest("Expected a websocket connection");
      }
      return undefined;
    })
    .get("/api/v1/streaming/*", async (ctx) => {
      const { request, server } = ctx;
      const url = new URL(request.url);
      const stream = streamFromPath(url.pathname.slice("/api/v1/streaming".length), url.searchParams.get("only_media") === "true");
      if (!stream) throw new ApiError(404, "Unknown stream type");
      const ip = clientIp(request, server, (ctx as { meta?: RequestMeta }).meta);
      const reader = await admit(request, url, ip);
      return eventStream(reader, request, server, streamRequest(url.searchParams, stream));
    });
}

/** Bun socket events for one connection (dispatched by Elysia's adapter to ws.data). */
function socketHandlers(hub: StreamingHub, connection: WebSocketConnection, initial: StreamRequest | undefined) {
  const handle = async (type: "subscribe" | "unsubscribe", request: StreamRequest) => {
    try {
      // A list is loaded first (the only stream whose check reads the database).
      if (type === "subscribe") await hub.prepareStream(connection, request);
      if (type === "subscribe") hub.subscribe(connection, request);
      else hub.unsubscribe(connection, request);
    } catch (error) {
      if (error instanceof StreamError) return connection.sendError(error.message, error.status);
      log.error("streaming: subscribe failed", { error });
      connection.sendError("Internal server error", 500);
    }
  };
  return {
    open(ws: ServerWebSocket<unknown>) {
      connection.socket = ws;
      if (connection.closed) return ws.close(1001, "Server shutting down");
      if (initial) handle("subscribe", initial);
    },
    message(_ws: ServerWebSocket<unknown>, raw: string | Buffer) {
      if (typeof raw !== "string") return connection.end(1003, "Only text frames are accepted");
      if (raw.length > MAX_FRAME_BYTES) return connection.sendError("Message too large", 413);
      const message = parseFrame(raw);
      if (typeof message === "string") return connection.sendError(message, 400);
      handle(message.type, message.request);
    },
    pong() {
      connection.alive = true;
    },
    close() {
      connection.closed = true;
      hub.detach(connection);
    },
  };
}

/** A client frame → what it asks, or the error message to answer with. */
export function parseFrame(raw: string): { type: "subscribe" | "unsubscribe"; request: StreamRequest } | string {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return "Invalid JSON";
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "Invalid message";
  const { type, stream, tag, list } = data as Record<string, unknown>;
  if (type !== "subscribe" && type !== "unsubscribe") return "Unknown message type";
  if (typeof stream !== "string") return "Unknown stream type";
  const text = (value: unknown) => (typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined);
  return { type, request: { stream, tag: text(tag), list: text(list) } };
}

export function buildStreamingApp(context: AppContext, hub: StreamingHub) {
  return new Elysia({ name: "streaming", websocket: STREAMING_WEBSOCKET_OPTIONS })
    .use(baseApp(context, "streaming-base"))
    .use(streamingRoutes(context, hub));
}
