/**
 * One client connection, WebSocket or SSE, as the hub sees it: who reads (account, token, address), which
 * streams it follows, and how a frame is written. Writing never blocks: a client whose unsent data passes
 * MAX_BUFFERED_BYTES is disconnected (WebSocket close 1013 "try again later"), so one slow reader cannot
 * hold memory or the others hostage.
 */
import type { Server, ServerWebSocket } from "bun";
import type { LocalAccountRow } from "../features/accounts/service";
import { streamingMetrics } from "./metrics";
import type { ResolvedStream } from "./streams";

export const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface Reader {
  account: LocalAccountRow;
  tokenId: string;
  scopes: Set<string>;
  ip: string;
}

export interface Subscription extends ResolvedStream {
  /** JSON of `key`: identifies the subscription within its connection. */
  id: string;
  /** The Bun pub/sub topic shared by WebSocket readers of the same stream fed by the same channels. */
  topic: string;
  connection: Connection;
}

export type FrameKind = "ws" | "sse";

/** Frames built once per (event, stream) and written to every connection that shares them. */
export function buildFrame(kind: FrameKind, key: string[], event: string, payload: string | undefined): string {
  if (kind === "sse") return `event: ${event}\ndata: ${payload ?? ""}\n\n`;
  return JSON.stringify(payload === undefined ? { stream: key, event } : { stream: key, event, payload });
}

export abstract class Connection {
  readonly subscriptions = new Map<string, Subscription>();
  closed = false;
  abstract readonly kind: FrameKind;

  constructor(readonly reader: Reader) {}

  get accountId(): string {
    return this.reader.account.id;
  }

  /** Write a frame; false when the connection is gone (or was just dropped for being too slow). */
  abstract write(frame: string): boolean;
  /** An error message for a bad request frame (WebSocket only; SSE has nobody to tell). */
  abstract sendError(message: string, status: number): void;
  abstract end(code: number, reason: string): void;
}

export class WebSocketConnection extends Connection {
  readonly kind = "ws" as const;
  socket: ServerWebSocket<unknown> | undefined;
  /** The server the socket belongs to (for native publish to a topic). */
  server: Server<unknown> | undefined;
  /** Pong seen since the last ping: a socket that misses one is dead and gets terminated. */
  alive = true;

  write(frame: string): boolean {
    const socket = this.socket;
    if (this.closed || !socket) return false;
    const result = socket.send(frame);
    streamingMetrics.messagesSent++;
    if (result === 0 || socket.getBufferedAmount() > MAX_BUFFERED_BYTES) {
      streamingMetrics.slowConsumersClosed++;
      this.end(1013, "Client is too slow");
      return false;
    }
    return true;
  }

  sendError(message: string, status: number): void {
    if (!this.closed) this.socket?.send(JSON.stringify({ error: message, status }));
  }

  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket?.close(code, reason);
    } catch {
      this.socket?.terminate();
    }
  }
}

const encoder = new TextEncoder();

export class SseConnection extends Connection {
  readonly kind = "sse" as const;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly body: ReadableStream<Uint8Array>;

  constructor(reader: Reader, onCancel: () => void) {
    super(reader);
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
          // Mastodon opens with a comment, so proxies and clients see bytes at once.
          controller.enqueue(encoder.encode(":)\n"));
        },
        cancel: () => {
          this.closed = true;
          onCancel();
        },
      },
      { highWaterMark: MAX_BUFFERED_BYTES, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  write(frame: string): boolean {
    if (this.closed || !this.controller) return false;
    try {
      this.controller.enqueue(encoder.encode(frame));
    } catch {
      this.closed = true;
      return false;
    }
    if (frame.charCodeAt(0) !== 58 /* ":" heartbeat */) streamingMetrics.messagesSent++;
    if ((this.controller.desiredSize ?? 0) <= 0) {
      streamingMetrics.slowConsumersClosed++;
      this.end(1013, "Client is too slow");
      return false;
    }
    return true;
  }

  sendError(): void {}

  end(_code?: number, _reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.controller?.close();
    } catch {
      // already closed by the client
    }
  }
}
