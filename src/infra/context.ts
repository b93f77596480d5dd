/**
 * What every role, handler and job gets: configuration, the Postgres pool, a fail-fast Redis connection and
 * the queue client. Built once per process by the CLI (see cli/boot.ts) and passed down explicitly.
 */
import type { Config } from "./config";
import type { Sql } from "./db";
import type { QueueClient } from "./queues/client";
import type { Redis } from "./redis";

export interface AppContext {
  config: Config;
  sql: Sql;
  /** Fails fast while Redis is down (requests answer 503 instead of hanging). */
  redis: Redis;
  queues: QueueClient;
}
