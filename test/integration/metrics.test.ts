/**
 * /metrics: access rules (token, loopback-only without one), the series operators graph (HTTP by route
 * template, queue depths, job outcomes, delivery failures, streaming connections, process memory), and
 * the route label staying bounded whatever paths clients invent.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as v from "valibot";
import { buildWebApp } from "../../src/api/app";
import { recordDeliveryFailure, registry } from "../../src/infra/metrics";
import { defineJob, JobRegistry } from "../../src/infra/queues/registry";
import { startWorkers } from "../../src/infra/queues/worker";
import { startMetricsListener } from "../../src/cli/roles/metrics-listener";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";

const TOKEN = "op-metrics-secret-token-0123456789";
let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);

beforeAll(async () => {
  context = await testContext({ METRICS_TOKEN: TOKEN, RATE_LIMITS_ENABLED: "false" });
  app = buildWebApp(context);
});
afterAll(async () => {
  await context.close();
});

async function scrape(): Promise<string> {
  const res = await call("GET", "/metrics", { token: TOKEN });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.json as string;
}

/** Distinct values of one label across a metric's samples. */
async function labelValues(metric: string, label: string): Promise<Set<string>> {
  const values = (await registry.getSingleMetric(metric)!.get()).values;
  return new Set(values.map((s) => String((s.labels as Record<string, unknown>)[label])));
}

test("a token is required when METRICS_TOKEN is set: none → 401, wrong → 403", async () => {
  const none = await call("GET", "/metrics");
  expect(none.status).toBe(401);
  expect(none.json).toEqual({ error: expect.any(String) });
  const wrong = await call("GET", "/metrics", { token: "op-not-the-token" });
  expect(wrong.status).toBe(403);
  expect(String(wrong.json)).not.toContain("woolly_");
});

test("scrape shows HTTP, queue, delivery, streaming and process series", async () => {
  await call("GET", "/api/v1/instance");
  await call("GET", "/api/v1/statuses/123456");
  recordDeliveryFailure("Bad.Example.test");
  const text = await scrape();
  expect(text).toMatch(/woolly_http_requests_total\{method="GET",route="\/api\/v1\/statuses\/:id",status="4xx"\} \d+/);
  expect(text).toMatch(/woolly_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/v1\/instance",status="2xx"/);
  for (const queue of ["default", "push", "pull", "ingress", "mailers", "scheduler"]) {
    for (const state of ["waiting", "active", "delayed", "failed"]) expect(text).toContain(`woolly_queue_jobs{queue="${queue}",state="${state}"}`);
  }
  expect(text).toMatch(/woolly_delivery_failures_total\{domain="bad\.example\.test"\} 1/);
  expect(text).toContain('woolly_streaming_connections{transport="websocket"}');
  expect(text).toMatch(/woolly_process_resident_memory_bytes \d+/);
  expect(text).toMatch(/woolly_db_pool_max_connections \d+/);
});

test("the route label stays bounded: 1000 random paths make a handful of values", async () => {
  const before = await labelValues("woolly_http_requests_total", "route");
  for (let i = 0; i < 1000; i++) {
    const random = crypto.randomUUID();
    const path = [`/api/v1/statuses/${random}`, `/api/v1/accounts/${random}`, `/${random}/${i}`, `/api/v1/${random}`][i % 4]!;
    await call("GET", path);
  }
  const after = await labelValues("woolly_http_requests_total", "route");
  const added = [...after].filter((r) => !before.has(r));
  // statuses/:id, accounts/:id and the shared "unmatched" (or a catch-all template) at most.
  expect(added.length).toBeLessThanOrEqual(4);
  for (const route of after) expect(route).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}/);
  expect(after.has("unmatched") || after.has("/api/v1/statuses/:id")).toBe(true);
});

test("job durations and outcomes by queue and job name", async () => {
  let fail = false;
  const job = defineJob({
    name: "op.metrics-probe",
    queue: "pull",
    schema: v.object({ n: v.number() }),
    attempts: 1,
    backoffMs: 10,
    async handler() {
      if (fail) throw new Error("op says no");
    },
  });
  const workers = startWorkers({ queues: ["pull"], concurrency: 1, registry: new JobRegistry([job]), context, connection: context.bullConnection, prefix: context.bullPrefix });
  const jobIds: string[] = [];
  try {
    jobIds.push(await context.queues.enqueue(job, { n: 1 }));
    const count = async (outcome: string) => {
      const values = (await registry.getSingleMetric("woolly_job_duration_seconds")!.get()).values;
      return values.find((s) => (s as { metricName?: string }).metricName === "woolly_job_duration_seconds_count" && s.labels.job === "op.metrics-probe" && s.labels.outcome === outcome)?.value ?? 0;
    };
    for (let i = 0; i < 100 && (await count("completed")) < 1; i++) await Bun.sleep(50);
    fail = true;
    jobIds.push(await context.queues.enqueue(job, { n: 2 }));
    for (let i = 0; i < 100 && (await count("failed")) < 1; i++) await Bun.sleep(50);
    expect(await count("completed")).toBe(1);
    expect(await count("failed")).toBe(1);
    expect(await scrape()).toMatch(/woolly_job_duration_seconds_count\{queue="pull",job="op.metrics-probe",outcome="failed"\} 1/);
  } finally {
    await workers.close(5000);
    // The run's queues are shared by every test file: leave no failed job behind for their counts.
    for (const id of jobIds) await (await context.queues.queue("pull").getJob(id))?.remove();
  }
});

test("without METRICS_TOKEN: loopback peers only, never a proxied request; the worker's listener serves it", async () => {
  const open = await testContext({ METRICS_PORT: "0" });
  try {
    const openApp = buildWebApp(open);
    // In-process requests have no peer address: refused.
    expect((await inProcessApi(() => openApp)("GET", "/metrics")).status).toBe(403);
    // The metrics-only listener of the worker role, on an ephemeral loopback port.
    const listenerContext = { ...open, config: { ...open.config, bind: "127.0.0.1", metrics: { token: undefined, port: 0 } } };
    const free = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = free.port;
    free.stop(true);
    const [step] = startMetricsListener({ ...listenerContext, config: { ...listenerContext.config, metrics: { port: port! } } }, "worker");
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("woolly_queue_jobs");
      const proxied = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9" } });
      expect(proxied.status).toBe(403);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      await step!.stop();
    }
  } finally {
    await open.close();
  }
});

test("every series the Grafana dashboard queries is one /metrics serves", async () => {
  const dashboard = await Bun.file(new URL("../../docs/grafana-dashboard.json", import.meta.url)).json();
  const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bwoolly_[a-z0-9_]+/g)].map((m) => m[0])));
  expect(used.size).toBeGreaterThan(8);
  const served = new Set([...(await scrape()).matchAll(/^(woolly_[a-z0-9_]+)[{ ]/gm)].map((m) => m[1]));
  for (const name of used) expect(served.has(name) ? name : `${name} (not served)`).toBe(name);
});
