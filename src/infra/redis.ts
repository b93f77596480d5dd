/**
 * Redis through ioredis. Two flavours of connection:
 * - `bullmq`: retries forever (BullMQ requires maxRetriesPerRequest: null) — queues ride out a Redis restart.
 * - `app`: fails fast when Redis is down (no offline queue), so a request answers 503 instead of hanging.
 * Both reconnect by themselves when Redis comes back.
 */
import IORedis, { type Redis, type RedisOptions } from "ioredis";
import type { Config } from "./config";
import { withTimeout } from "./db";

export type { Redis };

export function createRedis(config: Config["redis"], flavour: "bullmq" | "app", name = "woolly"): Redis {
  const options: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...(flavour === "bullmq"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 }),
  };
  const client = new IORedis(config.url, options);
  // Without a listener ioredis prints every reconnect failure; /health reports the state instead.
  client.on("error", () => {});
  return client;
}

export async function pingRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status !== "ready") throw Object.assign(new Error(`Redis connection is ${redis.status}`), { code: "ECONNREFUSED" });
  await withTimeout(redis.ping(), timeoutMs, "Redis did not answer in time");
}

/** Wait until a fresh connection is ready (start-up check), or fail with a one-line reason. */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await withTimeout(
    new Promise<void>((resolve) => redis.once("ready", () => resolve())),
    timeoutMs,
    "Redis is not reachable",
  );
}
