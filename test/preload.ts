/**
 * Runs before every test file (bunfig.toml). Each `bun test` run gets its own Postgres database, created here
 * with every migration applied and dropped when the run ends, and its own Redis namespace, so runs never see
 * each other's data. Tests read the URLs from process.env like the app does.
 *
 * TEST_ADMIN_DATABASE_URL: a server to create databases on (default postgres://postgres@127.0.0.1:5432/postgres).
 * TEST_REDIS_URL: the Redis to use (default redis://127.0.0.1:6379).
 */
import { afterAll } from "bun:test";
import postgres from "postgres";
import { createDb } from "../src/infra/db";
import { migrate } from "../src/infra/migrate";

const adminUrl = process.env.TEST_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const runId = `${Date.now().toString(36)}_${process.pid}`;
const databaseName = `woolly_test_${runId}`;

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${databaseName}`);

const url = new URL(adminUrl);
url.pathname = `/${databaseName}`;
process.env.DATABASE_URL = url.toString();
process.env.REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
process.env.REDIS_NAMESPACE = `woolly_test_${runId}`;
process.env.LOCAL_DOMAIN ??= "woolly.test";
process.env.LOCAL_HTTPS ??= "false";
process.env.SECRET_KEY_BASE ??= "test-secret-key-base-0123456789abcdef0123456789abcdef";
process.env.LOG_LEVEL ??= "error";
process.env.SHUTDOWN_TIMEOUT ??= "10";
// Many in-process requests share one "client address"; tests that check limits turn them on themselves.
process.env.RATE_LIMITS_ENABLED ??= "false";
process.env.TEST_ADMIN_DATABASE_URL = adminUrl;

{
  const sql = createDb({ url: url.toString(), pool: 2, preparedStatements: true, ssl: false, connectTimeoutSeconds: 5 });
  await migrate(sql);
  await sql.end();
}

afterAll(async () => {
  // Other connections (from spawned processes that were killed) may linger a moment: force them out.
  await admin.unsafe(`drop database if exists ${databaseName} with (force)`).catch(() => {});
  await admin.end({ timeout: 1 });
});
