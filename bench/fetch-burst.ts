/**
 * Fetch-burst bench: when a post travels, hundreds of servers fetch its URL within seconds. Here 1,000
 * concurrent clients (wrk, one thread, 1,000 connections) GET one status URL (/@name/:id), every other
 * request as application/activity+json and the rest as HTML. Targets (issue 6): ≥ 10,000 requests/s, p99
 * < 50 ms, and exactly one render per representation per cache period (the render cache's TTL, 60 s).
 *
 * The server is the web app (buildWebApp, as `woolly web` serves it) in a child process (this file with
 * --serve) that also answers its render count on a control port, so the count is the server's own.
 *
 *   bun run bench:fetch-burst [--duration 15] [--connections 1000] [--role]
 *
 * --role: serve with the real `woolly web` role from source instead (bun src/main.ts web), so WEB_CONCURRENCY
 * (threads on the port, see src/cli/roles/web-threads.ts) applies; the render count is then not reported
 * (each thread has its own render cache and no control port).
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { buildWebApp } from "../src/api/app";
import { renderCount } from "../src/activitypub/render-cache";
import { createLocalAccount } from "../src/features/accounts/service";
import { postStatus } from "../src/features/statuses/service";
import { loadConfig } from "../src/infra/config";
import type { AppContext } from "../src/infra/context";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { bullPrefix, QueueClient } from "../src/infra/queues/client";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { env, freePort, ROOT } from "./lib";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    control: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    role: { type: "boolean" },
  },
});
const DURATION = Number(values.duration ?? 15);
const CONNECTIONS = Number(values.connections ?? 1000);
const DATABASE_URL = process.env.BENCH_FETCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_fetch";
const NAMESPACE = "woolly_bench_fetch";

async function appContext(): Promise<AppContext> {
  const config = loadConfig({ ...process.env, ...ENV });
  configureLog("error");
  const sql = createDb(config.db, { max: 8 });
  const redis = createRedis(config.redis, "app", "woolly-bench");
  await waitForRedis(redis, 5000);
  return { config, sql, redis, queues: new QueueClient(redis, bullPrefix(NAMESPACE)) };
}

let port = 0;
const ENV = env({ LOCAL_HTTPS: "false", DATABASE_URL, REDIS_NAMESPACE: NAMESPACE, RATE_LIMITS_ENABLED: "false", LOG_LEVEL: "error" });

// ---------------------------------------------------------------------------------------------------------
// The server (child process).
if (values.serve) {
  const context = await appContext();
  const app = buildWebApp(context);
  Bun.serve({ hostname: "127.0.0.1", port: Number(values.serve), fetch: (request) => app.handle(request) });
  Bun.serve({ hostname: "127.0.0.1", port: Number(values.control), fetch: () => Response.json({ renders: renderCount() }) });
  console.log("ready");
  // A clean exit on the parent's SIGTERM, so a CPU profile (BENCH_WOOLLY_BUN_ARGS) gets written.
  process.on("SIGTERM", () => process.exit(0));
  await new Promise(() => {});
}

// ---------------------------------------------------------------------------------------------------------
// The bench (parent).
{
  const name = new URL(DATABASE_URL).pathname.slice(1);
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
}
const context = await appContext();
await migrate(context.sql);
const author = (await createLocalAccount(context.sql, context.config, { username: "bench_fetch", email: "bench_fetch@example.com", password: "bench password 1", confirmed: true }))
  .account;
const { findLocalAccount } = await import("../src/features/accounts/service");
const { statusId } = await postStatus(context, await findLocalAccount(context.sql, author.username), {
  status: "A post that travels, with a #hashtag and a link https://example.com/",
  visibility: "public",
  language: "en",
});

port = await freePort();
const controlPort = await freePort();
// BENCH_WOOLLY_BUN_ARGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof": bun flags for the server (a CPU profile of it).
const bunArgs = (process.env.BENCH_WOOLLY_BUN_ARGS ?? "").split(" ").filter(Boolean);
const server = values.role
  ? Bun.spawn(["bun", ...bunArgs, "src/main.ts", "web", "--port", String(port)], { cwd: ROOT, env: ENV, stdout: "pipe", stderr: "inherit" })
  : Bun.spawn(["bun", ...bunArgs, import.meta.path, "--serve", String(port), "--control", String(controlPort)], { cwd: ROOT, env: ENV, stdout: "pipe", stderr: "inherit" });
if (values.role) {
  for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok; i++) {
    if (i > 300) throw new Error("woolly web did not come up");
    await Bun.sleep(100);
  }
  await Bun.sleep(2000); // the main thread answers first; the other web threads join within about a second
} else {
  const reader = server.stdout.getReader();
  for (let text = ""; !text.includes("ready"); ) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server exited");
    text += new TextDecoder().decode(value);
  }
}
const base = `http://127.0.0.1:${port}`;
const path = `/@${author.username}/${statusId}`;
const renders = async () =>
  values.role ? NaN : ((await (await fetch(`http://127.0.0.1:${controlPort}/`)).json()) as { renders: number }).renders;

// Both faces answer as expected before the load.
const asJson = await fetch(`${base}${path}`, { headers: { accept: "application/activity+json" } });
const asHtml = await fetch(`${base}${path}`, { headers: { accept: "text/html" } });
if (asJson.status !== 200 || !asJson.headers.get("content-type")?.startsWith("application/activity+json")) throw new Error(`JSON face: ${asJson.status}`);
if (asHtml.status !== 200 || !asHtml.headers.get("content-type")?.startsWith("text/html")) throw new Error(`HTML face: ${asHtml.status}`);
const rendersBefore = await renders();

const script = `/tmp/woolly-fetch-burst-${process.pid}.lua`;
await Bun.write(
  script,
  `local i = 0
request = function()
  i = i + 1
  if i % 2 == 0 then
    return wrk.format("GET", "${path}", { ["Accept"] = "application/activity+json" })
  end
  return wrk.format("GET", "${path}", { ["Accept"] = "text/html" })
end
`,
);
const proc = Bun.spawn(["wrk", "-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, "--latency", "-s", script, `${base}${path}`], { stdout: "pipe", stderr: "pipe" });
const raw = await new Response(proc.stdout).text();
await proc.exited;
await Bun.file(script).delete();
const rendersAfter = await renders();
const unit = (value: string, u: string) => Number(value) * (u === "us" ? 0.001 : u === "s" ? 1000 : 1);
const latency = (p: string) => {
  const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(raw);
  return m ? unit(m[1]!, m[2]!) : NaN;
};
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? NaN);
const errors = /Socket errors:.*/.exec(raw)?.[0] ?? "no socket errors";
const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(raw)?.[1] ?? 0);
console.log(raw);
console.log(`GET ${path}, half activity+json / half HTML, wrk -t1 -c${CONNECTIONS} -d${DURATION}s` + (values.role ? `, woolly web (WEB_CONCURRENCY=${process.env.WEB_CONCURRENCY ?? "default"})` : ""));
console.log(`${rps.toFixed(0)} req/s (÷ 10,000 = ${(rps / 10_000).toFixed(2)}), p50 ${latency("50").toFixed(2)} ms, p99 ${latency("99").toFixed(2)} ms (÷ 50 ms = ${(latency("99") / 50).toFixed(2)}), non-2xx ${non2xx}, ${errors}`);
if (values.role) console.log("renders: not reported with --role (each web thread has its own render cache)");
else console.log(`renders: ${rendersBefore} before the load (one per representation), ${rendersAfter - rendersBefore} during ${DURATION} s of load`);
server.kill();
await context.queues.close();
context.redis.disconnect();
await context.sql.end();
process.exit(0);
