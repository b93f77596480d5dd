/** The CLI as operators meet it: help, usage errors, configuration errors and start-up failures. */
import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { freePort, runWoolly } from "../helpers/cli";

describe("usage", () => {
  test("--help lists every role", async () => {
    const { code, stdout } = await runWoolly(["--help"]);
    expect(code).toBe(0);
    for (const role of ["web", "streaming", "worker", "scheduler", "all", "migrate", "admin", "version"]) expect(stdout).toContain(`  ${role} `);
  });

  test("--help works at every level", async () => {
    for (const args of [["web", "--help"], ["worker", "--help"], ["admin", "--help"], ["admin", "settings", "--help"], ["admin", "queues", "stats", "--help"]]) {
      const { code, stdout } = await runWoolly(args);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: woolly");
    }
  });

  test("unknown role, command or flag exits 2 with the usage", async () => {
    for (const args of [["frobnicate"], ["admin", "nope"], ["web", "--bogus"], ["worker", "--queues", "default,nosuch"], ["web", "--port", "99999"], []]) {
      const { code, stderr } = await runWoolly(args);
      expect(code).toBe(2);
      expect(stderr).toContain("Usage:");
    }
  });

  test("version", async () => {
    const { code, stdout } = await runWoolly(["version"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^woolly \d+\.\d+\.\d+/);
  });
});

describe("configuration errors stop the process with one line naming the variable", () => {
  test("missing LOCAL_DOMAIN", async () => {
    const { code, stderr } = await runWoolly(["web"], { LOCAL_DOMAIN: undefined });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("LOCAL_DOMAIN");
  });

  test("malformed DB_POOL, and no secret in the output", async () => {
    const { code, stderr } = await runWoolly(["worker"], { DB_POOL: "many", SECRET_KEY_BASE: "tooshort-secret" });
    expect(code).toBe(2);
    expect(stderr).toContain("SECRET_KEY_BASE");
    expect(stderr).not.toContain("tooshort-secret");
    const pool = await runWoolly(["worker"], { DB_POOL: "many" });
    expect(pool.code).toBe(2);
    expect(pool.stderr).toContain("DB_POOL");
    expect(pool.stderr).not.toContain("at ");
  });

  test("--env-file is read, and the environment wins over it", async () => {
    const path = `/tmp/woolly-test-${process.pid}.env`;
    await Bun.write(path, "LOCAL_DOMAIN=from-file.example\nDB_POOL=not-a-number\n");
    const bad = await runWoolly(["--env-file", path, "migrate", "--status"], { LOCAL_DOMAIN: undefined, DB_POOL: undefined });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("DB_POOL");
    const good = await runWoolly(["migrate", "--status", `--env-file=${path}`], { DB_POOL: "3" });
    expect(good.code).toBe(0);
    const missing = await runWoolly(["--env-file", "/nonexistent/env", "version"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("/nonexistent/env");
  });

  test("unreachable Postgres or Redis: one line, non-zero, no stack trace, no password", async () => {
    const port = await freePort();
    const pg = await runWoolly(["web"], { DATABASE_URL: `postgres://woolly:sekrit@127.0.0.1:${port}/x`, DB_CONNECT_TIMEOUT: "2" });
    expect(pg.code).toBe(1);
    expect(pg.stderr.trim().split("\n")).toHaveLength(1);
    expect(pg.stderr).toContain("cannot reach Postgres at 127.0.0.1");
    expect(pg.stderr).not.toContain("sekrit");
    const redis = await runWoolly(["web"], { REDIS_URL: `redis://:sekrit@127.0.0.1:${port}` });
    expect(redis.code).toBe(1);
    expect(redis.stderr.trim().split("\n")).toHaveLength(1);
    expect(redis.stderr).toContain("cannot reach Redis");
    expect(redis.stderr).not.toContain("sekrit");
  });
});

describe("migrations", () => {
  test("roles refuse a database with pending migrations; migrate applies them; --status reports", async () => {
    const admin = postgres(process.env.TEST_ADMIN_DATABASE_URL!, { max: 1, onnotice: () => {} });
    const name = `woolly_test_empty_${process.pid}`;
    await admin.unsafe(`drop database if exists ${name}`);
    await admin.unsafe(`create database ${name}`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name}`;
    try {
      const env = { DATABASE_URL: url.toString() };
      for (const role of ["web", "worker", "scheduler", "streaming"]) {
        const refused = await runWoolly([role], env);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain("pending migration");
        expect(refused.stderr).toContain("woolly migrate");
      }
      const status = await runWoolly(["migrate", "--status"], env);
      expect(status.stdout).toContain("pending  0001_foundation");
      // Two migrators at once: each migration is applied exactly once, both succeed.
      const [a, b] = await Promise.all([runWoolly(["migrate"], env), runWoolly(["migrate"], env)]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const applied = (a.stdout + b.stdout).match(/applied 0001_foundation/g) ?? [];
      expect(applied).toHaveLength(1);
      const after = await runWoolly(["migrate", "--status"], env);
      expect(after.stdout).toContain("up to date");
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});

describe("admin settings", () => {
  test("set, get and list round-trip through the database with type checks", async () => {
    expect((await runWoolly(["admin", "settings", "get", "registrations_mode"])).stdout.trim()).toBe("none");
    const set = await runWoolly(["admin", "settings", "set", "registrations_mode", "open"]);
    expect(set.code).toBe(0);
    expect((await runWoolly(["admin", "settings", "get", "registrations_mode"])).stdout.trim()).toBe("open");
    const bad = await runWoolly(["admin", "settings", "set", "registrations_mode", "sometimes"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("registrations_mode");
    const unknown = await runWoolly(["admin", "settings", "get", "no_such_setting"]);
    expect(unknown.code).toBe(2);
    await runWoolly(["admin", "settings", "set", "media_cache_retention_period", "14"]);
    const list = JSON.parse((await runWoolly(["admin", "settings", "list", "--json"])).stdout);
    expect(list.registrations_mode).toBe("open");
    expect(list.media_cache_retention_period).toBe(14);
    expect(list.site_title).toBe("Woolly");
  });
});
