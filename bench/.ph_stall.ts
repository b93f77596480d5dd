// scratch (H1): which per-post job holds the event loop longest? (bench data, bench_poster's newest status)
import postgres from "postgres";
import { fanOutStatus } from "../src/features/timelines/service";
import { streamStatusCreated } from "../src/features/streaming/service";
import { createDb } from "../src/infra/db";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { loadConfig } from "../src/infra/config";
import { QueueClient, bullPrefix } from "../src/infra/queues/client";
import { env } from "./lib";
const config = loadConfig({ ...process.env, ...env({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/woolly_bench_timelines", REDIS_NAMESPACE: "woolly_bench_tl", LOCAL_HTTPS: "false" }) });
const sql = createDb(config.db, { max: 4 });
const redis = createRedis(config.redis, "app", "ph3"); await waitForRedis(redis, 5000);
const context = { config, sql, redis, queues: new QueueClient(redis, bullPrefix(config.redis.namespace)) } as any;
const [poster] = await sql`select id from accounts where username = 'bench_poster'`;
const [status] = await sql`select id from statuses where account_id = ${poster!.id} order by id desc limit 1`;
async function stall(name: string, run: () => Promise<unknown>) {
  for (let r = 0; r < 3; r++) {
    let last = performance.now(); let max = 0;
    const timer = setInterval(() => { const now = performance.now(); max = Math.max(max, now - last); last = now; }, 1);
    const cpu0 = process.cpuUsage(); const t0 = performance.now();
    await run();
    const cpu = process.cpuUsage(cpu0); clearInterval(timer);
    console.log(`${name}: ${(performance.now() - t0).toFixed(0)} ms, js cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms, longest event-loop stall ${max.toFixed(1)} ms`);
  }
}
await stall("fan-out (feed inserts)", () => fanOutStatus(context, status!.id));
await stall("streaming publish", () => streamStatusCreated(context, status!.id, "x"));
await context.queues.close(); redis.disconnect(); await sql.end();
