/**
 * Streaming bench: N concurrent WebSocket clients on one `woolly streaming` process (from source), all
 * subscribed to public:local; a `woolly web` and a `woolly worker --queues default` beside it.
 *
 * 1. RSS of the streaming process idle, then with N clients connected: MiB per 1,000 connections.
 * 2. For --posts posts (POST /api/v1/statuses, one every second): the time from sending the request until
 *    each client holds the `update` frame; p50 / p99 / max over all deliveries (target p99 < 1 s) and the
 *    number of clients that missed a post (must be 0). Process RSS after the posts (target < 300 MB).
 *
 * The file limit is raised with `ulimit -n` in the spawned shell (and must be high enough in this process:
 * one socket per client here too).
 *
 * The clients run in --threads worker threads of this process (bench/streaming-clients.ts).
 *
 *   bun run bench:streaming [--clients 2000] [--posts 5] [--threads 4]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLocalAccount, findLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import { loadConfig } from "../src/infra/config";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { createRedis } from "../src/infra/redis";
import { env, freePort, REDIS_URL, ROOT } from "./lib";

const { values } = parseArgs({ options: { clients: { type: "string" }, posts: { type: "string" }, threads: { type: "string" } } });
const CLIENTS = Number(values.clients ?? 2000);
const POSTS = Number(values.posts ?? 5);

const DATABASE_URL = process.env.BENCH_STREAMING_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_streaming";
// The common woolly environment (bench/lib.ts) plus what this bench sets itself.
const ENV = env({
  LOCAL_HTTPS: "false",
  DATABASE_URL,
  REDIS_NAMESPACE: "woolly_bench_st",
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  RATE_LIMITS_ENABLED: "false",
  STREAMING_MAX_CONNECTIONS_PER_TOKEN: "100000",
  STREAMING_MAX_CONNECTIONS_PER_IP: "100000",
});

// ---- database and accounts ----
{
  const admin = createDb({ ...loadConfig(ENV).db, url: DATABASE_URL.replace(/\/[^/]*$/, "/postgres") }, { max: 1 });
  const name = new URL(DATABASE_URL).pathname.slice(1);
  if ((await admin`select 1 from pg_database where datname = ${name}`).length === 0) await admin.unsafe(`create database "${name}"`);
  await admin.end();
}
const config = loadConfig(ENV);
configureLog("warn");
const sql = createDb(config.db, { max: 2 });
await migrate(sql);
async function account(username: string) {
  const existing = await findLocalAccount(sql, username).catch(() => undefined);
  if (existing) return existing;
  return (await createLocalAccount(sql, config, { username, email: `${username}@bench.test`, password: "correct horse battery", confirmed: true })).account;
}
const reader = await account("bench_stream_reader");
const poster = await account("bench_stream_poster");
const readerToken = (await issueToken(sql, { userId: reader.user.id, applicationId: null, scopes: "read" })).token;
const posterToken = (await issueToken(sql, { userId: poster.user.id, applicationId: null, scopes: "write" })).token;
await sql.end();

// ---- processes ----
const [webPort, streamingPort] = [await freePort(), await freePort()];
const spawn = (args: string) =>
  Bun.spawn(["bash", "-c", `ulimit -n "$(ulimit -Hn)" && exec bun src/main.ts ${args}`], { cwd: ROOT, env: ENV, stdout: "ignore", stderr: "inherit" });
const streaming = spawn(`streaming --port ${streamingPort}`);
const web = spawn(`web --port ${webPort}`);
const worker = spawn("worker --queues default");
const stopAll = () => {
  for (const p of [streaming, web, worker]) p.kill("SIGTERM");
};
process.on("exit", stopAll);

async function until(url: string) {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(url).catch(() => undefined))?.ok) return;
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not come up`);
}
await until(`http://127.0.0.1:${streamingPort}/api/v1/streaming/health`);
await until(`http://127.0.0.1:${webPort}/health`);
await Bun.sleep(500);

const rssMiB = () => {
  const line = readFileSync(`/proc/${streaming.pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
};
Bun.gc(true);
const idleRss = rssMiB();

// ---- clients, spread over worker threads ----
const THREADS = Number(values.threads ?? 4);
const workers = Array.from({ length: THREADS }, () => new Worker(new URL("./streaming-clients.ts", import.meta.url).href));
function ask<T>(worker: Worker, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    worker.addEventListener("message", (e) => resolve(e.data as T), { once: true });
    worker.postMessage(message);
  });
}
const connectStarted = performance.now();
await Promise.all(
  workers.map((w, i) =>
    ask(w, {
      type: "open",
      url: `ws://127.0.0.1:${streamingPort}/api/v1/streaming?stream=public:local`,
      protocol: readerToken,
      count: Math.floor(CLIENTS / THREADS) + (i < CLIENTS % THREADS ? 1 : 0),
    }),
  ),
);
const connectSeconds = (performance.now() - connectStarted) / 1000;
await Bun.sleep(1000);
const connectedRss = rssMiB();

// ---- posts ----
// A tap on the Redis channel splits the time: POST → publish (web, queue, worker) and publish → clients.
const published = new Map<string, number>();
const tap = createRedis(config.redis, "bullmq", "bench-tap");
await tap.subscribe(`${ENV.REDIS_NAMESPACE}:timeline:public:local`);
tap.on("message", (_channel: string, message: string) => {
  const { statusId } = JSON.parse(message) as { statusId: string };
  published.set(statusId, performance.timeOrigin + performance.now());
});
const latencies: number[] = [];
const perPost: { first: number; p99: number; max: number; missed: number; publish: number }[] = [];
for (let n = 0; n < POSTS; n++) {
  const sent = performance.timeOrigin + performance.now();
  const response = await fetch(`http://127.0.0.1:${webPort}/api/v1/statuses`, {
    method: "POST",
    headers: { authorization: `Bearer ${posterToken}`, "content-type": "application/json" },
    body: JSON.stringify({ status: `bench post ${n} at ${new Date().toISOString()}` }),
  });
  if (response.status !== 200) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  const id = ((await response.json()) as { id: string }).id;
  const replies = await Promise.all(workers.map((w) => ask<{ times: number[] }>(w, { type: "await", id, timeoutMs: 10_000 })));
  const times = replies.flatMap((r) => r.times.map((t) => t - sent)).sort((a, b) => a - b);
  latencies.push(...times);
  perPost.push({ first: times[0] ?? NaN, p99: quantile(times, 0.99), max: times.at(-1) ?? NaN, missed: CLIENTS - times.length, publish: (published.get(id) ?? NaN) - sent });
  await Bun.sleep(1000);
}
const afterRss = rssMiB();

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
latencies.sort((a, b) => a - b);
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(`clients: ${CLIENTS} WebSockets on public:local in ${THREADS} threads (connected in ${connectSeconds.toFixed(1)} s)`);
console.log(`streaming RSS: idle ${idleRss.toFixed(1)} MiB; connected ${connectedRss.toFixed(1)} MiB; after ${POSTS} posts ${afterRss.toFixed(1)} MiB`);
console.log(`RSS per 1,000 connections: ${(((connectedRss - idleRss) / CLIENTS) * 1000).toFixed(2)} MiB`);
console.log(`POST → update at every client (${latencies.length} deliveries): p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(latencies.at(-1) ?? NaN)}`);
for (const [i, p] of perPost.entries()) console.log(`  post ${i + 1}: published to Redis after ${ms(p.publish)}; first client ${ms(p.first)}, p99 ${ms(p.p99)}, last client ${ms(p.max)}, missed ${p.missed}`);
console.log(`target p99 < 1000 ms: ratio ${(quantile(latencies, 0.99) / 1000).toFixed(3)}; target RSS < 300 MB: ${((afterRss * 1024 * 1024) / 1e6).toFixed(0)} MB`);

await Promise.all(workers.map((w) => ask(w, { type: "close" })));
for (const w of workers) w.terminate();
tap.disconnect();
stopAll();
await Promise.all([streaming.exited, web.exited, worker.exited]);
process.exit(0);
