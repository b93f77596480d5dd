// scratch (H1): how long does a Redis command wait behind one post's fan-out to 10,000 feeds?
import postgres from "postgres";
import { addToFeeds } from "../src/features/timelines/feeds";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { loadConfig } from "../src/infra/config";
import { env } from "./lib";
const config = loadConfig({ ...process.env, ...env({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/woolly_bench_timelines", REDIS_NAMESPACE: "woolly_bench_tl" }) });
const sql = postgres(config.db.url, { types: {} as never });
const [poster] = await sql`select id from accounts where username = 'bench_poster'`;
const ids = (await sql`select account_id as id from follows where target_account_id = ${poster!.id}`).map((r) => r.id as string);
const a = createRedis(config.redis, "app", "ph1"); const b = createRedis(config.redis, "app", "ph2");
await waitForRedis(a, 5000); await waitForRedis(b, 5000);
for (let round = 0; round < 4; round++) {
  let stop = false; const waits: number[] = [];
  const probe = (async () => { while (!stop) { const t = performance.now(); await b.ping(); waits.push(performance.now() - t); await Bun.sleep(1); } })();
  const t0 = performance.now(); const cpu0 = process.cpuUsage();
  await addToFeeds(a, "woolly_bench_tl", ids, { id: String(9_000_000_000_000_000n + BigInt(Date.now() * 10 + round)), reblogOfId: null });
  const cpu = process.cpuUsage(cpu0);
  const took = performance.now() - t0; stop = true; await probe;
  waits.sort((x, y) => x - y);
  console.log(`fan-out ${took.toFixed(0)} ms (js cpu ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms); PING during it: n=${waits.length} p50 ${waits[Math.floor(waits.length / 2)]!.toFixed(2)} max ${waits.at(-1)!.toFixed(2)} ms`);
}
a.disconnect(); b.disconnect(); await sql.end();
