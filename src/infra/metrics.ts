/**
 * Prometheus metrics for every role: one prom-client registry per process, the series other code bumps
 * (HTTP requests, jobs, delivery failures, streaming connections) and gauges read at scrape time (queue
 * depths, the Postgres pool size). Rendered by the web role at /metrics and, for roles without an HTTP
 * server of their own, by the small listener in cli/roles/metrics-listener.ts (METRICS_PORT).
 *
 * Label values are kept bounded on purpose: routes are templates (`/api/v1/statuses/:id`), statuses are
 * classes (`2xx`), delivery failures are by domain (a few hundred peers, not per inbox URL).
 */
import { timingSafeEqual } from "node:crypto";
import client from "prom-client";
import type { AppContext } from "./context";
import { QUEUE_NAMES } from "./queues/names";

export const registry = new client.Registry();
// Process memory, CPU, event-loop lag and GC: prom-client's defaults, prefixed like everything else.
client.collectDefaultMetrics({ register: registry, prefix: "woolly_" });
// Per-heap-space figures cost ~6 ms each per scrape under Bun (JavaScriptCore has no V8 heap spaces, so they
// are mostly zeros anyway); heap size used/total and RSS above say what matters.
for (const kind of ["total", "used", "available"]) registry.removeSingleMetric(`woolly_nodejs_heap_space_size_${kind}_bytes`);

export const httpRequests = new client.Counter({
  name: "woolly_http_requests_total",
  help: "HTTP requests answered, by method, route template and status class",
  labelNames: ["method", "route", "status"] as const,
  registers: [registry],
});

export const httpDuration = new client.Histogram({
  name: "woolly_http_request_duration_seconds",
  help: "HTTP request latency, by method, route template and status class",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const jobDuration = new client.Histogram({
  name: "woolly_job_duration_seconds",
  help: "Job run time, by queue, job name and outcome (completed|failed)",
  labelNames: ["queue", "job", "outcome"] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const deliveryFailures = new client.Counter({
  name: "woolly_delivery_failures_total",
  help: "Failed deliveries to remote inboxes, by domain",
  labelNames: ["domain"] as const,
  registers: [registry],
});

export const streamingConnections = new client.Gauge({
  name: "woolly_streaming_connections",
  help: "Open streaming connections in this process, by transport (websocket|eventsource)",
  labelNames: ["transport"] as const,
  registers: [registry],
});

export const streamingChannels = new client.Gauge({
  name: "woolly_streaming_channels",
  help: "Redis channels this streaming process is subscribed to (each once, however many clients read it)",
  registers: [registry],
});

export const streamingMessagesSent = new client.Counter({
  name: "woolly_streaming_messages_sent_total",
  help: "Event frames written to streaming clients, by event (update, delete, notification, ...)",
  labelNames: ["event"] as const,
  registers: [registry],
});

/** Event names are ours (never a client's), so the label set stays bounded. */
export function recordStreamingMessages(event: string, count: number): void {
  if (count > 0) streamingMessagesSent.inc({ event }, count);
}

export const relayActivities = new client.Counter({
  name: "woolly_relay_activities_total",
  help: "Activities from accepted relays, by relay host and outcome (admitted|throttled: over the relay's per-minute limit, dropped)",
  labelNames: ["relay", "outcome"] as const,
  registers: [registry],
});

/** Only accepted relays' actors get here (rows an operator added), so the host label stays bounded. */
export function recordRelayActivity(relayActor: string, outcome: "admitted" | "throttled"): void {
  relayActivities.inc({ relay: URL.canParse(relayActor) ? new URL(relayActor).host : "other", outcome });
}

/** Distinct domains we keep a series for; beyond it failures are counted under "other" (a hostile peer
 *  minting subdomains must not grow the registry without bound). */
const MAX_DELIVERY_DOMAINS = 2000;
const deliveryDomains = new Set<string>();

/** Called by outbound delivery when a POST to a remote inbox fails for good or for this attempt. */
export function recordDeliveryFailure(domain: string): void {
  let label = domain.toLowerCase().slice(0, 253);
  if (!deliveryDomains.has(label)) {
    if (deliveryDomains.size >= MAX_DELIVERY_DOMAINS) label = "other";
    else deliveryDomains.add(label);
  }
  deliveryFailures.inc({ domain: label });
}

/** Streaming role: the number of open connections per transport. */
export function setStreamingConnections(transport: "websocket" | "eventsource", count: number): void {
  streamingConnections.set({ transport }, count);
}

/** Outcome of one job run (see infra/queues/worker.ts). */
export function recordJob(queue: string, job: string, outcome: "completed" | "failed", seconds: number): void {
  jobDuration.observe({ queue, job, outcome }, seconds);
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}

/** Record one answered HTTP request; `route` must be the matched template, never the raw path. */
export function recordHttpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
  // Methods outside the usual set are folded so a client cannot invent label values.
  const m = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].includes(method) ? method : "OTHER";
  const labels = { method: m, route: route ?? "unmatched", status: statusClass(status) };
  httpRequests.inc(labels);
  httpDuration.observe(labels, seconds);
}

const queueDepth = new client.Gauge({
  name: "woolly_queue_jobs",
  help: "Jobs in each queue by state (waiting, active, delayed, failed), read from Redis at scrape time",
  labelNames: ["queue", "state"] as const,
  registers: [registry],
});

const dbPoolMax = new client.Gauge({
  name: "woolly_db_pool_max_connections",
  help: "Size of this process's Postgres connection pool (postgres.js does not expose connections in use)",
  registers: [registry],
});

/**
 * The registry's text for a scrape. Queue depths are refreshed first: one getJobCounts per queue (a few
 * Redis commands each), so a scrape every 15 s costs nothing noticeable. A Redis outage leaves the depth
 * gauges at their last values rather than failing the whole scrape.
 */
export async function renderMetrics(context: Pick<AppContext, "queues" | "config">): Promise<string> {
  try {
    await Promise.all(
      QUEUE_NAMES.map(async (name) => {
        const counts = await context.queues.queue(name).getJobCounts("wait", "prioritized", "active", "delayed", "failed");
        queueDepth.set({ queue: name, state: "waiting" }, (counts.wait ?? 0) + (counts.prioritized ?? 0));
        queueDepth.set({ queue: name, state: "active" }, counts.active ?? 0);
        queueDepth.set({ queue: name, state: "delayed" }, counts.delayed ?? 0);
        queueDepth.set({ queue: name, state: "failed" }, counts.failed ?? 0);
      }),
    );
  } catch {
    // Keep serving process metrics while Redis is unavailable.
  }
  dbPoolMax.set(context.config.db.pool);
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/**
 * Who may scrape: with METRICS_TOKEN set, a request carrying `Authorization: Bearer <token>` (compared in
 * constant time); without it, only a loopback peer that is not a reverse proxy forwarding someone else's
 * request (a local nginx makes every request look like it comes from 127.0.0.1, so a forwarded request is
 * refused). Returns the HTTP status to answer with.
 */
export function metricsAccess(
  token: string | undefined,
  authorization: string | null,
  peer: string | undefined,
  forwarded: boolean,
): 200 | 401 | 403 {
  if (token) {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) return 401;
    const given = Buffer.from(match[1]!);
    const wanted = Buffer.from(token);
    return given.length === wanted.length && timingSafeEqual(given, wanted) ? 200 : 403;
  }
  return peer !== undefined && isLoopback(peer) && !forwarded ? 200 : 403;
}

function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/, "");
  return a === "::1" || a.startsWith("127.");
}
