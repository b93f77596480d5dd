/**
 * Timelines bench, against `woolly all` from source (bun src/main.ts all), loaded with wrk.
 *
 * Data (seeded once into a database of its own, default woolly_bench_timelines; reseed with --reseed):
 *   - 2,000 author accounts and 1,000,000 public/unlisted statuses spread over them (one INSERT … SELECT
 *     generate_series, ids one millisecond apart ending an hour ago);
 *   - bench_reader follows 1,000 of the authors;
 *   - bench_poster has 10,000 local followers (accounts without sign-in, which is all fan-out needs).
 * Redis: a namespace of its own (woolly_bench_tl); its feeds are cleared at the start.
 *
 * 1. GET /api/v1/timelines/home?limit=20 as bench_reader: the first read (rebuild from Postgres) timed on
 *    its own, then wrk -t1 -c50 (target ≥ 3,000 req/s, p99 < 30 ms).
 * 2. GET /api/v1/timelines/public?local=true&limit=20, anonymous, same wrk settings.
 * 3. POST /api/v1/statuses as bench_poster (10,000 followers, all with a home feed in Redis): p99 request
 *    latency over --posts sequential posts (target < 50 ms), and for --probes posts, the time from sending
 *    the request until all 10,000 feeds hold the post (target < 2 s).
 *
 *   bun run bench:timelines [--duration 15] [--connections 50] [--posts 100] [--probes 5] [--rounds 1] [--reseed]
 *                           [--only home,public,posts]   (a subset of the three parts, for quicker runs)
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createLocalAccount, findLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import { beginBuild, clearAllFeeds, feedKey, finishBuild, pad } from "../src/features/timelines/feeds";
import { loadConfig } from "../src/infra/config";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { clearQueuedJobs, env, freePort, postgresCpuMsSince, postgresCpuSnapshot, processCpuMs, REDIS_URL, ROOT } from "./lib";

const { values } = parseArgs({
  options: {
    duration: { type: "string" },
    connections: { type: "string" },
    posts: { type: "string" },
    probes: { type: "string" },
    rounds: { type: "string" },
    reseed: { type: "boolean" },
    only: { type: "string" },
  },
});
const DURATION = Number(values.duration ?? 15);
const CONNECTIONS = Number(values.connections ?? 50);
const POSTS = Number(values.posts ?? 100);
const PROBES = Number(values.probes ?? 5);
/** wrk runs per read path; the median round is reported (other work on a shared box makes single runs noisy). */
const ROUNDS = Number(values.rounds ?? 1);
const PARTS = new Set((values.only ?? "home,public,posts").split(","));

const DATABASE_URL = process.env.BENCH_TIMELINES_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_timelines";
const NAMESPACE = "woolly_bench_tl";
const AUTHORS = 2000;
const FOLLOWED = 1000;
const STATUSES = 1_000_000;
const FOLLOWERS = 10_000;

// The common woolly environment (bench/lib.ts) plus what this bench sets itself.
const ENV = env({
  LOCAL_HTTPS: "false",
  DATABASE_URL,
  REDIS_NAMESPACE: NAMESPACE,
  RATE_LIMITS_ENABLED: "false",
  LOG_LEVEL: "warn",
});

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;

// ---- database: create, migrate, seed ----
{
  const name = new URL(DATABASE_URL).pathname.slice(1);
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  if (values.reseed) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  if ((await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`).length === 0) await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
}
const dbName = new URL(DATABASE_URL).pathname.slice(1);
const config = loadConfig({ ...process.env, ...ENV });
configureLog("warn");
const sql = createDb(config.db, { max: 4 });
await migrate(sql);

async function seed() {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from statuses`;
  if (row!.count >= STATUSES) return;
  console.error(`seeding ${STATUSES.toLocaleString()} statuses…`);
  const started = performance.now();
  const reader = await createLocalAccount(sql, config, { username: "bench_reader", email: "bench_reader@example.com", password: "bench password 1", confirmed: true });
  const poster = await createLocalAccount(sql, config, { username: "bench_poster", email: "bench_poster@example.com", password: "bench password 2", confirmed: true });
  await sql`insert into accounts (username, uri) select 'bench_author_' || g, 'http://localhost:3000/users/bench_author_' || g from generate_series(1, ${AUTHORS}) g`;
  await sql`insert into accounts (username, uri) select 'bench_follower_' || g, 'http://localhost:3000/users/bench_follower_' || g from generate_series(1, ${FOLLOWERS}) g`;
  await sql`insert into follows (account_id, target_account_id)
    select ${reader.account.id}, id from accounts where username like 'bench_author_%' order by id limit ${FOLLOWED}`;
  await sql`insert into follows (account_id, target_account_id)
    select id, ${poster.account.id} from accounts where username like 'bench_follower_%'`;
  // Ids one millisecond apart (ms << 16), the newest an hour ago: the same shape woolly_id() gives.
  await sql`
    insert into statuses (id, account_id, text, content, visibility, uri, created_at)
    select ((t0.ms + g) << 16), a.ids[1 + (g % ${AUTHORS})], 'bench post ' || g, '<p>bench post ' || g || '</p>',
           case when g % 10 = 0 then 'unlisted' else 'public' end, '', to_timestamp((t0.ms + g) / 1000.0)
    from generate_series(1, ${STATUSES}) g,
         (select (floor(extract(epoch from now()) * 1000)::bigint - 3600000 - ${STATUSES}) as ms) t0,
         (select array_agg(id order by id) as ids from accounts where username like 'bench_author_%') a`;
  await sql`update accounts set followers_count = ${FOLLOWERS} where id = ${poster.account.id}`;
  await sql`vacuum analyze`.catch(async () => sql.unsafe("analyze"));
  console.error(`seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
await seed();

const reader = await findLocalAccount(sql, "bench_reader");
const poster = await findLocalAccount(sql, "bench_poster");
const readerToken = (await issueToken(sql, { userId: reader.user.id, applicationId: null, scopes: "read" })).token;
const posterToken = (await issueToken(sql, { userId: poster.user.id, applicationId: null, scopes: "read write" })).token;

// ---- Redis: fresh feeds; the 10,000 followers' feeds exist (empty, built), as for active users ----
const redis = createRedis(config.redis, "app", "woolly-bench");
await waitForRedis(redis, 5000);
await clearAllFeeds(redis, NAMESPACE);
// Jobs left in this namespace by an interrupted run (or bench:profile) would run during the measurements.
await clearQueuedJobs(redis, NAMESPACE);
const followerIds = (await sql<{ id: string }[]>`select account_id as id from follows where target_account_id = ${poster.id}`).map((r) => r.id);
for (const id of followerIds) {
  await beginBuild(redis, NAMESPACE, id, true);
  await finishBuild(redis, NAMESPACE, id);
}

// ---- woolly all, from source ----
const port = await freePort();
// BENCH_WOOLLY_BUN_ARGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof": bun flags for the server (a CPU profile of it).
const bunArgs = (process.env.BENCH_WOOLLY_BUN_ARGS ?? "").split(" ").filter(Boolean);
const server = Bun.spawn(["bun", ...bunArgs, "src/main.ts", "all", "--port", String(port), "--streaming-port", "0"], { cwd: ROOT, env: ENV, stdout: "ignore", stderr: "inherit" });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if ((await fetch(`${base}/health`).catch(() => undefined))?.ok) break;
  if (i > 300) throw new Error("woolly all did not come up");
  await Bun.sleep(100);
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** CPU per request served during the run: the woolly process, and the Postgres backends of its database. */
  woollyCpuMs: number;
  postgresCpuMs: number;
  raw: string;
}

async function wrk(path: string, token?: string): Promise<WrkResult> {
  const args = ["wrk", "-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, "--latency", ...(token ? ["-H", `Authorization: Bearer ${token}`] : []), `${base}${path}`];
  const woolly0 = processCpuMs(server.pid);
  const postgres0 = await postgresCpuSnapshot(sql, dbName);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const raw = await new Response(proc.stdout).text();
  await proc.exited;
  const woollyMs = processCpuMs(server.pid) - woolly0;
  const postgresMs = await postgresCpuMsSince(sql, dbName, postgres0);
  const requests = Number(/(\d+) requests in/.exec(raw)?.[1] ?? NaN);
  const unit = (value: string, u: string) => Number(value) * (u === "us" ? 0.001 : u === "s" ? 1000 : 1);
  const latency = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(raw);
    return m ? unit(m[1]!, m[2]!) : NaN;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? NaN),
    p50: latency("50"),
    p99: latency("99"),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0),
    woollyCpuMs: woollyMs / requests,
    postgresCpuMs: postgresMs / requests,
    raw,
  };
}

function report(name: string, r: WrkResult) {
  console.log(`${name}: ${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, non-2xx ${r.non2xx}, CPU/request woolly ${r.woollyCpuMs.toFixed(3)} + Postgres ${r.postgresCpuMs.toFixed(3)} ms` + `  (req/s / 3000 = ${(r.rps / 3000).toFixed(2)}, p99 / 30 ms = ${(r.p99 / 30).toFixed(2)})`);
}

/** ROUNDS runs, each reported with the load average before it, then the median round (by req/s). */
async function rounds(name: string, run: () => Promise<WrkResult>) {
  const results: WrkResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const load = (await Bun.file("/proc/loadavg").text()).split(" ")[0];
    const result = await run();
    results.push(result);
    if (ROUNDS > 1) report(`  round ${i + 1} (load ${load})`, result);
  }
  const median = [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)]!;
  report(ROUNDS > 1 ? `${name} — median of ${ROUNDS}` : name, median);
}

try {
  // ---- 1. home ----
  if (PARTS.has("home")) {
    const homePath = "/api/v1/timelines/home?limit=20";
    let started = performance.now();
    const first = await fetch(`${base}${homePath}`, { headers: { authorization: `Bearer ${readerToken}` } });
    const firstBody = (await first.json()) as unknown[];
    console.log(`home, first read (rebuild of 800 from Postgres): ${ms(performance.now() - started)}, status ${first.status}, ${firstBody.length} statuses`);
    started = performance.now();
    await fetch(`${base}${homePath}`, { headers: { authorization: `Bearer ${readerToken}` } }).then((r) => r.arrayBuffer());
    console.log(`home, second read: ${ms(performance.now() - started)}`);
    await rounds(`GET ${homePath}`, () => wrk(homePath, readerToken));
  }

  // ---- 2. public:local ----
  const publicPath = "/api/v1/timelines/public?local=true&limit=20";
  if (PARTS.has("public")) await rounds(`GET ${publicPath}`, () => wrk(publicPath));

  // ---- 3. posting with 10,000 followers ----
  if (PARTS.has("posts")) {
    const postOnce = async (text: string) => {
      const t0 = performance.now();
      const response = await fetch(`${base}/api/v1/statuses`, {
        method: "POST",
        headers: { authorization: `Bearer ${posterToken}`, "content-type": "application/json" },
        body: JSON.stringify({ status: text, visibility: "public" }),
      });
      const body = (await response.json()) as { id?: string; error?: string };
      if (response.status !== 200 || !body.id) throw new Error(`POST /api/v1/statuses: ${response.status} ${JSON.stringify(body)}`);
      return { t0, latency: performance.now() - t0, id: body.id };
    };
    const allHold = async (id: string) => {
      const pipeline = redis.pipeline();
      for (const follower of followerIds) pipeline.zscore(feedKey(NAMESPACE, follower), pad(id));
      const results = (await pipeline.exec()) ?? [];
      return results.every(([error, score]) => !error && score !== null);
    };
    const fanOutTimes: number[] = [];
    const quietLatencies: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const { t0, id, latency } = await postOnce(`probe ${i} ${Date.now()}`);
      quietLatencies.push(latency);
      while (!(await allHold(id))) await Bun.sleep(5);
      fanOutTimes.push(performance.now() - t0);
  }
  console.log(`POST /api/v1/statuses on a quiet server (each after the previous fan-out finished): ${quietLatencies.map((l) => l.toFixed(0)).join(", ")} ms`);
  console.log(`time until all ${followerIds.length.toLocaleString()} feeds hold a post (${PROBES} posts, one at a time): median ${ms(quantile(fanOutTimes, 0.5))}, max ${ms(Math.max(...fanOutTimes))} (median / 2 s = ${(quantile(fanOutTimes, 0.5) / 2000).toFixed(2)})`);

  const latencies: number[] = [];
  let lastId = "";
  const burst = performance.now();
  for (let i = 0; i < POSTS; i++) {
    const { latency, id } = await postOnce(`post ${i} ${Date.now()}`);
    latencies.push(latency);
    lastId = id;
  }
  console.log(`POST /api/v1/statuses, ${POSTS} sequential posts: p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, max ${ms(Math.max(...latencies))} (p99 / 50 ms = ${(quantile(latencies, 0.99) / 50).toFixed(2)})`);
  while (!(await allHold(lastId))) await Bun.sleep(20);
  console.log(`  all ${(POSTS * followerIds.length).toLocaleString()} feed inserts of the burst done ${ms(performance.now() - burst)} after its first request`);
  }
} finally {
  server.kill("SIGTERM");
  await server.exited;
  redis.disconnect();
  await sql.end();
}
