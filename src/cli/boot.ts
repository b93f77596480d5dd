/**
 * Start-up shared by every role: load configuration, open Postgres and Redis with start-up deadlines, refuse
 * to run on a database with pending migrations, and give back an AppContext plus a close() that releases
 * everything. Failures become CliErrors with a one-line cause (never a stack trace, never a secret).
 */
import { loadConfig, type Config } from "../infra/config";
import type { AppContext } from "../infra/context";
import { createDb, pingDb, type Sql } from "../infra/db";
import { configureLog } from "../infra/log";
import { migrate, pendingMigrations } from "../infra/migrate";
import { QueueClient, bullPrefix } from "../infra/queues/client";
import { createRedis, waitForRedis, type Redis } from "../infra/redis";
import { CliError, EXIT_USAGE } from "./command";

export type MigrationPolicy = "require" | "apply" | "ignore";

export interface Booted {
  context: AppContext;
  /** A connection that retries forever, for BullMQ workers. */
  bullConnection: Redis;
  bullPrefix: string;
  close(): Promise<void>;
}

/** host:port/database of a Postgres URL, without credentials, for messages. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    const socket = u.searchParams.get("host");
    return `${socket ?? u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

export function describeRedis(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

export function readConfig(role: string): Config {
  const config = loadConfig(process.env);
  configureLog(config.logLevel, { role, pid: process.pid });
  return config;
}

export async function openDatabase(config: Config, options: { max?: number; applicationName?: string } = {}): Promise<Sql> {
  const sql = createDb(config.db, options);
  try {
    await pingDb(sql, config.db.connectTimeoutSeconds * 1000 + 500);
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw new CliError(`cannot reach Postgres at ${describeDatabase(config.db.url)}: ${oneLine(error)}`);
  }
  return sql;
}

export async function checkMigrations(sql: Sql, policy: MigrationPolicy): Promise<void> {
  if (policy === "ignore") return;
  if (policy === "apply") {
    await migrate(sql);
    return;
  }
  const pending = await pendingMigrations(sql);
  if (pending.length > 0) {
    throw new CliError(
      `the database has ${pending.length} pending migration(s) (${pending.map((m) => m.version).join(", ")}); run \`woolly migrate\` first`,
      // 2, like a configuration error: an operator must act, so systemd should not restart it in a loop.
      EXIT_USAGE,
    );
  }
}

export async function openRedis(config: Config, flavour: "app" | "bullmq", name: string): Promise<Redis> {
  const redis = createRedis(config.redis, flavour, name);
  try {
    await waitForRedis(redis, 5000);
  } catch (error) {
    redis.disconnect();
    throw new CliError(`cannot reach Redis at ${describeRedis(config.redis.url)}: ${oneLine(error)}`);
  }
  return redis;
}

export async function boot(role: string, migrations: MigrationPolicy, config = readConfig(role)): Promise<Booted> {
  const sql = await openDatabase(config, { applicationName: `woolly-${role}` });
  const opened: { close(): Promise<unknown> | void }[] = [{ close: () => sql.end({ timeout: 5 }) }];
  const closeAll = async () => {
    for (const item of opened.reverse()) await Promise.resolve(item.close()).catch(() => {});
  };
  try {
    await checkMigrations(sql, migrations);
    const redis = await openRedis(config, "app", `woolly-${role}`);
    opened.push({ close: () => redis.quit().catch(() => redis.disconnect()) });
    const bullConnection = await openRedis(config, "bullmq", `woolly-${role}-queues`);
    opened.push({ close: () => bullConnection.quit().catch(() => bullConnection.disconnect()) });
    const prefix = bullPrefix(config.redis.namespace);
    const queues = new QueueClient(redis, prefix);
    opened.push({ close: () => queues.close() });
    return { context: { config, sql, redis, queues }, bullConnection, bullPrefix: prefix, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 300);
}
