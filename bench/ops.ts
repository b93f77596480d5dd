/**
 * Running-an-instance costs (issue 9): what /metrics adds to every request and costs per scrape, and how
 * long a blocklist import takes (a shared 400-domain list must be one quick command, not 400 INSERTs).
 *
 *   bun bench/ops.ts [--rows 400,10000] [--scrapes 300]
 *
 * Uses its own database woolly_bench_ops (dropped and re-created each run) and Redis namespace. Targets,
 * chosen so an operator never notices: recording one request < 5 µs; a scrape p99 < 50 ms; a 400-line
 * import (preview + apply) < 1 s.
 */
import postgres from "postgres";
import { applyImport, parseBlocklistCsv, planImport, CSV_HEADER } from "../src/features/federation/domain-blocks";
import { loadConfig } from "../src/infra/config";
import { createDb } from "../src/infra/db";
import { recordHttpRequest, renderMetrics } from "../src/infra/metrics";
import { migrate } from "../src/infra/migrate";
import { QueueClient, bullPrefix } from "../src/infra/queues/client";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { DATABASE_URL, REDIS_URL, clearQueuedJobs, env } from "./lib";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const ROWS = arg("rows", "400,10000").split(",").map(Number);
const SCRAPES = Number(arg("scrapes", "300"));

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

const dbUrl = new URL(DATABASE_URL);
dbUrl.pathname = "/woolly_bench_ops";
const adminUrl = new URL(DATABASE_URL);
adminUrl.pathname = "/postgres";
const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
await admin.unsafe("drop database if exists woolly_bench_ops with (force)");
await admin.unsafe("create database woolly_bench_ops");
await admin.end();

const config = loadConfig(env({ DATABASE_URL: dbUrl.toString(), REDIS_URL, REDIS_NAMESPACE: "woolly_bench_ops", LOG_LEVEL: "error" }));
const sql = createDb(config.db, { max: 4 });
await migrate(sql);
const redis = createRedis(config.redis, "app", "bench-ops");
await waitForRedis(redis, 5000);
await clearQueuedJobs(redis as never, "woolly_bench_ops");
const queues = new QueueClient(redis, bullPrefix(config.redis.namespace));

// 1. The per-request hook: counter + histogram with three labels.
const routes = ["/api/v1/timelines/home", "/api/v1/statuses/:id", "/api/v1/accounts/:id", "unmatched"];
for (let i = 0; i < 20_000; i++) recordHttpRequest("GET", routes[i % 4], 200, 0.01);
const N = 300_000;
let t = performance.now();
for (let i = 0; i < N; i++) recordHttpRequest(i % 7 ? "GET" : "POST", routes[i % 4], i % 13 ? 200 : 404, (i % 100) / 1000);
const perRequestUs = ((performance.now() - t) * 1000) / N;

// 2. A scrape: six getJobCounts round trips to Redis plus the registry's text.
for (let i = 0; i < 20; i++) await renderMetrics({ queues, config });
const scrape: number[] = [];
let bytes = 0;
for (let i = 0; i < SCRAPES; i++) {
  t = performance.now();
  bytes = (await renderMetrics({ queues, config })).length;
  scrape.push(performance.now() - t);
}
const s = stats(scrape);

// 3. Blocklist imports.
const context = { sql, queues };
const imports: { rows: number; parse: number; preview: number; apply: number; replan: number }[] = [];
for (const rows of ROWS) {
  await sql`delete from domain_blocks`;
  const lines = Array.from({ length: rows }, (_, i) => `bench-${i}.blocklist.test,${["silence", "noop", "suspend"][i % 3]},${i % 2 === 0},false,"comment, ${i}",false`);
  const csv = [CSV_HEADER, ...lines].join("\n");
  t = performance.now();
  const parsed = parseBlocklistCsv(csv);
  const parse = performance.now() - t;
  t = performance.now();
  const plan = await planImport(sql, parsed);
  const preview = performance.now() - t;
  t = performance.now();
  await applyImport(context, plan);
  const apply = performance.now() - t;
  t = performance.now();
  const again = await planImport(sql, parsed);
  const replan = performance.now() - t;
  if (again.unchanged.length !== rows) throw new Error("re-import should find every row unchanged");
  imports.push({ rows, parse, preview, apply, replan });
}

await clearQueuedJobs(redis as never, "woolly_bench_ops");
await queues.close();
redis.disconnect();
await sql.end();

const uptime = (await new Response(Bun.spawn(["uptime"]).stdout).text()).trim();
console.log(`date ${new Date().toISOString()}  nproc ${navigator.hardwareConcurrency}  ${uptime}`);
console.log(`record one request: ${perRequestUs.toFixed(2)} µs (target < 5 µs) ${perRequestUs < 5 ? "met" : "MISSED"}`);
console.log(`scrape (${SCRAPES}×, ${bytes} bytes): median ${ms(s.median)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (target p99 < 50 ms) ${s.p99 < 50 ? "met" : "MISSED"}`);
for (const r of imports) {
  console.log(
    `import ${r.rows} rows: parse ${ms(r.parse)}, preview ${ms(r.preview)}, apply ${ms(r.apply)}, re-preview ${ms(r.replan)}; ` +
      `preview+apply ${ms(r.preview + r.apply)}${r.rows === 400 ? ` (target < 1000 ms) ${r.preview + r.apply < 1000 ? "met" : "MISSED"}` : ""}`,
  );
}
process.exit(0);
