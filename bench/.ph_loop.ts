// scratch (H1): run the whole home request N times for a CPU profile
import { buildWebApp } from "../src/api/app";
import { findLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import { loadConfig } from "../src/infra/config";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { QueueClient, bullPrefix } from "../src/infra/queues/client";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { env } from "./lib";
const ENV = env({ LOCAL_HTTPS: "false", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/woolly_bench_timelines", REDIS_NAMESPACE: "woolly_bench_tl", RATE_LIMITS_ENABLED: "false", LOG_LEVEL: "warn" });
const config = loadConfig({ ...process.env, ...ENV });
configureLog("warn");
const sql = createDb(config.db, { max: 4 });
const redis = createRedis(config.redis, "app", "woolly-profile");
await waitForRedis(redis, 5000);
if (process.env.AUTOPIPE) (redis as any).options.enableAutoPipelining = true;
const context = { config, sql, redis, queues: new QueueClient(redis, bullPrefix(config.redis.namespace)) };
const reader = await findLocalAccount(sql, "bench_reader");
const token = (await issueToken(sql, { userId: reader.user.id, applicationId: null, scopes: "read" })).token;
const app = buildWebApp(context as never);
const path = process.argv[2] ?? "/api/v1/timelines/home?limit=20";
const N = Number(process.argv[3] ?? 5000);
const C = 8;
const cpu0 = process.cpuUsage(); const t0 = performance.now();
let done = 0;
await Promise.all(Array.from({ length: C }, async () => {
  while (done < N) { done++; const r = await app.handle(new Request(`http://localhost${path}`, { headers: { authorization: `Bearer ${token}` } })); await r.text(); }
}));
const cpu = process.cpuUsage(cpu0);
console.log(`${N} requests, ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms cpu/req, ${(N / ((performance.now() - t0) / 1000)).toFixed(0)} req/s`);
await context.queues.close(); redis.disconnect(); await sql.end();
