/**
 * A real AppContext against the run's database and Redis (see test/preload.ts), for tests that drive
 * services, jobs and apps in-process. Close it in afterAll.
 */
import { loadConfig } from "../../src/infra/config";
import { configureLog } from "../../src/infra/log";
import type { AppContext } from "../../src/infra/context";
import { createDb } from "../../src/infra/db";
import { QueueClient, bullPrefix } from "../../src/infra/queues/client";
import { createRedis, waitForRedis, type Redis } from "../../src/infra/redis";

export interface TestContext extends AppContext {
  bullConnection: Redis;
  bullPrefix: string;
  close(): Promise<void>;
}

export async function testContext(overrides: Record<string, string> = {}): Promise<TestContext> {
  const config = loadConfig({ ...process.env, ...overrides });
  configureLog(config.logLevel);
  const sql = createDb(config.db, { max: 4 });
  const redis = createRedis(config.redis, "app", "woolly-test");
  const bullConnection = createRedis(config.redis, "bullmq", "woolly-test-queues");
  await Promise.all([waitForRedis(redis, 5000), waitForRedis(bullConnection, 5000)]);
  const prefix = bullPrefix(config.redis.namespace);
  const queues = new QueueClient(redis, prefix);
  return {
    config,
    sql,
    redis,
    queues,
    bullConnection,
    bullPrefix: prefix,
    async close() {
      await queues.close();
      redis.disconnect();
      bullConnection.disconnect();
      await sql.end({ timeout: 2 });
    },
  };
}
