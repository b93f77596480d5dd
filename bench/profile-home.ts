/**
 * Where a home / public timeline request spends its time, measured in-process against the timelines bench's
 * data (run `bun run bench:timelines` once first: it creates and seeds woolly_bench_timelines). Each phase is
 * timed on its own over many sequential iterations (no concurrency: this is per-request cost, not
 * throughput), and the statements each phase sends are counted with postgres.js's debug hook. The POST
 * phase posts as bench_poster without workers (the request alone); its queued jobs are dropped at the end.
 *
 *   bun run bench:profile [--iterations 300]   (PROFILE_TRACE=1 prints every statement sent)
 */
import { parseArgs } from "node:util";
import { resolveCaller } from "../src/api/caller";
import { pageParams, pageWhere } from "../src/api/pagination";
import { buildWebApp } from "../src/api/app";
import { renderSelectedStatuses, renderStatuses } from "../src/api/entities/status";
import { applyFilters } from "../src/api/filtering";
import { findLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import * as timelines from "../src/features/timelines/service";
import { loadConfig } from "../src/infra/config";
import type { AppContext } from "../src/infra/context";
import type { Sql } from "../src/infra/db";
import postgres from "postgres";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { QueueClient, bullPrefix } from "../src/infra/queues/client";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { clearQueuedJobs, env } from "./lib";

const { values } = parseArgs({ options: { iterations: { type: "string" } } });
const N = Number(values.iterations ?? 300);

const DATABASE_URL = process.env.BENCH_TIMELINES_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_timelines";
const ENV = env({ LOCAL_HTTPS: "false", DATABASE_URL, REDIS_NAMESPACE: "woolly_bench_tl", RATE_LIMITS_ENABLED: "false", LOG_LEVEL: "warn" });
const config = loadConfig({ ...process.env, ...ENV });
configureLog("warn");
// The pool as createDb makes it, plus postgres.js's debug hook to count the statements actually sent.
let queries = 0;
const trace = process.env.PROFILE_TRACE === "1";
const sql = postgres(config.db.url, {
  max: 4,
  types: {},
  onnotice: () => {},
  debug: (_connection: number, query: string) => {
    queries++;
    if (trace) console.log("   ", query.replace(/\s+/g, " ").slice(0, 160));
  },
}) as unknown as Sql;
const pool = sql;

await migrate(pool);

const redis = createRedis(config.redis, "app", "woolly-profile");
await waitForRedis(redis, 5000);
// Redis commands sent, counted like the statements (ioredis's sendCommand is the one door).
let redisCommands = 0;
const sendCommand = redis.sendCommand.bind(redis);
redis.sendCommand = ((...args: Parameters<typeof sendCommand>) => {
  redisCommands++;
  return sendCommand(...args);
}) as typeof redis.sendCommand;
const context: AppContext = { config, sql, redis, queues: new QueueClient(redis, bullPrefix(config.redis.namespace)) };

const reader = await findLocalAccount(pool, "bench_reader");
const token = (await issueToken(pool, { userId: reader.user.id, applicationId: null, scopes: "read" })).token;
const request = () => new Request(`http://localhost/api/v1/timelines/home?limit=20`, { headers: { authorization: `Bearer ${token}` } });

async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  let result!: T;
  for (let i = 0; i < 20; i++) result = await run(); // warm up (JIT, prepared statements, caches)
  queries = 0;
  redisCommands = 0;
  const times: number[] = [];
  // CPU time of this process (user + system) over the whole loop: what a request costs the event loop, with
  // the waits for Postgres and Redis (other processes) left out — the figure that bounds req/s per core.
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    result = await run();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const median = times[Math.floor(N / 2)]!;
  const cpuMs = (cpu.user + cpu.system) / 1000 / N;
  console.log(
    `${name.padEnd(44)} median ${median.toFixed(3)} ms  p99 ${times[Math.floor(N * 0.99)]!.toFixed(3)} ms  cpu ${cpuMs.toFixed(3)} ms  sql/iter ${(queries / N).toFixed(1)}  redis/iter ${(redisCommands / N).toFixed(1)}`,
  );
  return result;
}

const app = buildWebApp(context);
try {
  await phase("auth: resolveCaller", () => resolveCaller(context, request(), "127.0.0.1"));
  const home = await phase("home: feed page (homePage)", () => timelines.homePage(context, reader.id, pageParams({}, 20)));
  const entities = await phase("render 20 statuses + home re-check", () => renderStatuses(context, reader, home.ids, { where: home.where }));
  await phase("JSON.stringify of the page", async () => JSON.stringify(entities));
  await phase("filters of the viewer (applyFilters)", () => applyFilters(context, reader, "home", entities));
  await phase("public:local page read + render, anonymous", () =>
    renderSelectedStatuses(context, undefined, timelines.publicPage(context, null, { local: true }, pageWhere(pool, pool`s.id`, pageParams({}, 20)))),
  );
  await phase("Elysia alone: GET /api/v1/custom_emojis", async () => (await app.handle(new Request("http://localhost/api/v1/custom_emojis"))).text());
  const poster = await findLocalAccount(pool, "bench_poster");
  const posterToken = (await issueToken(pool, { userId: poster.user.id, applicationId: null, scopes: "read write" })).token;
  let n = 0;
  // The queues are not worked here: this is the request alone, without fan-out competing for the CPU.
  await phase("POST /api/v1/statuses (request only)", async () => {
    const response = await app.handle(
      new Request("http://localhost/api/v1/statuses", {
        method: "POST",
        headers: { authorization: `Bearer ${posterToken}`, "content-type": "application/json" },
        body: JSON.stringify({ status: `profile post ${n++} #bench https://example.com/${n}`, visibility: "public" }),
      }),
    );
    if (response.status !== 200) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
    return response.text();
  });
  await phase("whole request through Elysia (app.handle)", async () => {
    const response = await app.handle(request());
    if (response.status !== 200) throw new Error(`home answered ${response.status}`);
    return response.text();
  });
  await phase("whole public:local request, anonymous", async () => {
    const response = await app.handle(new Request("http://localhost/api/v1/timelines/public?local=true&limit=20"));
    if (response.status !== 200) throw new Error(`public answered ${response.status}`);
    return response.text();
  });
} finally {
  await clearQueuedJobs(redis, config.redis.namespace); // the posts' jobs: nobody works them here
  await context.queues.close();
  redis.disconnect();
  await pool.end();
}
