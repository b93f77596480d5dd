/**
 * In-process counters of the streaming role, for the future /metrics endpoint (Prometheus text). Plain
 * numbers bumped in place: cheap enough for every message to every connection.
 */
export const streamingMetrics = {
  /** Open WebSocket connections. */
  websocketClients: 0,
  /** Open SSE connections. */
  sseClients: 0,
  /** Redis channels this process is subscribed to. */
  channels: 0,
  /** Frames written to clients (events, not heartbeats). */
  messagesSent: 0,
  /** Messages received from Redis. */
  messagesReceived: 0,
  /** Connections closed because the client did not keep up. */
  slowConsumersClosed: 0,
  /** Connections refused by the per-token or per-IP limit. */
  connectionsRefused: 0,
};

/** Prometheus exposition text of the counters above. */
export function streamingMetricsText(): string {
  const m = streamingMetrics;
  return [
    `woolly_streaming_connected_clients{type="websocket"} ${m.websocketClients}`,
    `woolly_streaming_connected_clients{type="eventsource"} ${m.sseClients}`,
    `woolly_streaming_redis_subscriptions ${m.channels}`,
    `woolly_streaming_messages_sent_total ${m.messagesSent}`,
    `woolly_streaming_redis_messages_received_total ${m.messagesReceived}`,
    `woolly_streaming_slow_consumers_closed_total ${m.slowConsumersClosed}`,
    `woolly_streaming_connections_refused_total ${m.connectionsRefused}`,
    "",
  ].join("\n");
}
