/**
 * Streaming publish cost: Redis messages and publisher time per post for an author with --followers local
 * followers of whom --connected have a user stream open (recorded in the presence set,
 * src/features/streaming/presence.ts), against the same post when every follower is recorded as listening
 * (what publishing cost before the presence record: one message per follower's `user` channel).
 *
 * In process: the publishing function the `streaming.publish` job runs (streamStatusCreated), a real
 * Postgres and Redis, and a pattern subscriber counting what actually went out per post.
 *
 *   bun run bench:streaming-publish [--followers 10000] [--connected 10] [--posts 30]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { AppContext } from "../src/infra/context";
import { loadConfig } from "../src/infra/config";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { bullPrefix, QueueClient } from "../src/infra/queues/client";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { channelPrefix } from "../src/features/streaming/channels";
import { markOnline, presenceKey } from "../src/features/streaming/presence";
import { streamStatusCreated } from "../src/features/streaming/service";
import { env } from "./lib";

const { values } = parseArgs({ options: { followers: { type: "string" }, connected: { type: "string" }, posts: { type: "string" } } });
const FOLLOWERS = Number(values.followers ?? 10_000);
const CONNECTED = Number(values.connected ?? 10);
const POSTS = Number(values.posts ?? 30);
const DATABASE_URL = process.env.BENCH_STPUB_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_stpub";
const NAMESPACE = `woolly_bench_stpub_${process.pid}`;
const ENV = env({ LOCAL_HTTPS: "false", DATABASE_URL, REDIS_NAMESPACE: NAMESPACE, LOG_LEVEL: "error" });

{
  const name = new URL(DATABASE_URL).pathname.slice(1);
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
}
const config = loadConfig({ ...process.env, ...ENV });
configureLog("error");
const sql = createDb(config.db, { max: 4 });
await migrate(sql);
const redis = createRedis(config.redis, "app", "woolly-bench");
await waitForRedis(redis, 5000);
const context: AppContext = { config, sql, redis, queues: new QueueClient(redis, bullPrefix(NAMESPACE)) };

// An author and FOLLOWERS local followers, in bulk (the publishing path reads only these tables).
const [author] = await sql<{ id: string }[]>`insert into accounts (username) values ('bench_stpub_author') returning id::text as id`;
const followers = await sql<{ id: string }[]>`
  insert into accounts (username) select 'bench_stpub_' || g from generate_series(1, ${FOLLOWERS}) g returning id::text as id`;
await sql`insert into follows (account_id, target_account_id) select a.id, ${author!.id} from accounts a where a.username like 'bench_stpub_%' and a.id <> ${author!.id}`;

// Fresh tables: statistics first, or the planner's guesses make the recipients query the whole story.
await sql`analyze accounts`;
await sql`analyze follows`;

// Count what goes out, per status.
const listener = redis.duplicate({ enableOfflineQueue: true });
const perStatus = new Map<string, number>();
listener.on("pmessage", (_pattern: string, _channel: string, raw: string) => {
  const id = (JSON.parse(raw) as { statusId: string }).statusId;
  perStatus.set(id, (perStatus.get(id) ?? 0) + 1);
});
await listener.psubscribe(`${channelPrefix(NAMESPACE)}*`);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function scenario(label: string) {
  const times: number[] = [];
  const messages: number[] = [];
  for (let i = 0; i < POSTS; i++) {
    const [status] = await sql<{ id: string }[]>`
      insert into statuses (account_id, visibility, text) values (${author!.id}, 'public', ${`post ${label} ${i}`}) returning id::text as id`;
    const started = performance.now();
    await streamStatusCreated(context, status!.id, `bench-${status!.id}`);
    times.push(performance.now() - started);
    // Pub/sub keeps one connection's order: once a sentinel published after the post's messages is heard,
    // all of them were.
    const sentinel = `sentinel-${status!.id}`;
    await redis.publish(`${channelPrefix(NAMESPACE)}bench-sentinel`, JSON.stringify({ statusId: sentinel }));
    while (!perStatus.has(sentinel)) await Bun.sleep(2);
    const last = perStatus.get(status!.id) ?? 0;
    messages.push(last);
  }
  times.sort((a, b) => a - b);
  messages.sort((a, b) => a - b);
  return {
    scenario: label,
    messagesPerPost: { median: quantile(messages, 0.5), max: messages.at(-1) },
    publishMs: { median: +quantile(times, 0.5).toFixed(2), p99: +quantile(times, 0.99).toFixed(2) },
  };
}

const results = [];
await markOnline(redis, NAMESPACE, followers.slice(0, CONNECTED).map((f) => f.id));
results.push(await scenario(`${CONNECTED} of ${FOLLOWERS} followers connected`));
// Everyone recorded as listening: the cost of publishing to every follower's channel, as before.
await markOnline(redis, NAMESPACE, followers.map((f) => f.id));
results.push(await scenario(`all ${FOLLOWERS} followers recorded (old behaviour)`));

console.log(JSON.stringify({ followers: FOLLOWERS, connected: CONNECTED, posts: POSTS, results }, null, 2));
const ratio = results[1]!.publishMs.median / results[0]!.publishMs.median;
console.log(`publish time ratio (all / ${CONNECTED} connected), medians: ${ratio.toFixed(1)}x`);

await redis.del(presenceKey(NAMESPACE));
listener.disconnect();
redis.disconnect();
await sql.end();
