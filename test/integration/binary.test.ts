/**
 * The compiled executable, as an operator runs it: built once with `bun scripts/build.ts`, copied alone
 * into an empty directory (no node_modules anywhere above it) and run from there. Covers `version`,
 * `selftest` (sharp from the binary), `migrate` into a fresh empty database, and `web` answering
 * GET /health then exiting 0 on SIGTERM, with a stray .env and bunfig.toml in the cwd that must be ignored.
 *
 * Needs Postgres (TEST_ADMIN_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres, may create
 * databases) and Redis (REDIS_URL, default redis://127.0.0.1:6379).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import postgres from "postgres";

const ROOT = resolve(import.meta.dir, "../..");
const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const BUILD_TIMEOUT_MS = 180_000;

let workDir = "";
let sharpCacheDir = "";
let databaseName = "";
let databaseUrl = "";
let admin: ReturnType<typeof postgres> | undefined;
const running = new Set<Bun.Subprocess>();

async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** The whole environment of the child: nothing inherited, so nothing (NODE_PATH, BUN_*) can help it. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: workDir,
    LOCAL_DOMAIN: "localhost:3000",
    SECRET_KEY_BASE: "0123456789abcdef".repeat(8),
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    SHARP_CACHE_DIR: sharpCacheDir,
    SHUTDOWN_TIMEOUT: "10",
    // test/preload.ts gives each run its own Redis namespace: stay inside it.
    ...(process.env.REDIS_NAMESPACE ? { REDIS_NAMESPACE: process.env.REDIS_NAMESPACE } : {}),
    ...extra,
  };
}

async function run(args: string[], timeoutMs = 60_000) {
  const proc = Bun.spawn([join(workDir, "woolly"), ...args], {
    cwd: workDir,
    env: childEnv(),
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutMs,
  });
  running.add(proc);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  running.delete(proc);
  return { stdout, stderr, exitCode };
}

async function exitWithin(proc: Bun.Subprocess, ms: number): Promise<number | "timeout"> {
  return await Promise.race([proc.exited, Bun.sleep(ms).then(() => "timeout" as const)]);
}

beforeAll(
  async () => {
    const build = Bun.spawn(["bun", "scripts/build.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(build.stdout).text(),
      new Response(build.stderr).text(),
      build.exited,
    ]);
    if (code !== 0) throw new Error(`bun scripts/build.ts exited ${code}\n${out}\n${err}`);

    workDir = mkdtempSync(join(tmpdir(), "woolly-binary-"));
    sharpCacheDir = mkdtempSync(join(tmpdir(), "woolly-sharp-cache-"));
    for (let dir = workDir; ; dir = dirname(dir)) {
      if (existsSync(join(dir, "node_modules"))) throw new Error(`${dir}/node_modules exists: the binary must run without one`);
      if (dir === dirname(dir)) break;
    }
    copyFileSync(join(ROOT, "dist/woolly"), join(workDir, "woolly"));
    chmodSync(join(workDir, "woolly"), 0o755);
    // Files a default `bun build --compile` binary would pick up from its cwd; ours must ignore them.
    writeFileSync(join(workDir, ".env"), "LOCAL_DOMAIN=not a domain!\nDB_POOL=not-a-number\nPORT=not-a-port\n");
    writeFileSync(join(workDir, "bunfig.toml"), 'preload = ["./stray-preload.js"]\n');
    writeFileSync(
      join(workDir, "stray-preload.js"),
      'console.error("stray bunfig.toml preload ran"); process.exit(42);\n',
    );

    admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    databaseName = `woolly_binary_${process.pid}_${Date.now().toString(36)}`;
    await admin.unsafe(`CREATE DATABASE "${databaseName}"`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${databaseName}`;
    databaseUrl = url.toString();
  },
  { timeout: BUILD_TIMEOUT_MS },
);

afterAll(async () => {
  for (const proc of running) proc.kill("SIGKILL");
  if (admin && databaseName) {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`).catch(() => {});
  }
  await admin?.end({ timeout: 5 });
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  if (sharpCacheDir) rmSync(sharpCacheDir, { recursive: true, force: true });
});

describe("compiled binary, alone in an empty directory", () => {
  test("woolly version prints the build version", async () => {
    const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
    const { stdout, stderr, exitCode } = await run(["version"]);
    expect({ exitCode, stdout, stderr }).toMatchObject({ exitCode: 0 });
    expect(stdout).toContain(pkg.version);
    expect(stdout).not.toContain(`${pkg.version}-dev`); // the define from scripts/build.ts, not the source fallback
    const sha = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim();
    if (sha) expect(stdout).toContain(sha);
  });

  test("woolly selftest passes, sharp included, extracting into SHARP_CACHE_DIR", async () => {
    const { stdout, stderr, exitCode } = await run(["selftest"]);
    expect({ exitCode, stdout, stderr }).toMatchObject({ exitCode: 0 });
    expect(stdout).toMatch(/^sharp ok: 64x48 png -> 32x24 webp/m);
    const versions = readdirSync(sharpCacheDir);
    expect(versions).toHaveLength(1);
    const lib = (pkg: string) => readdirSync(join(sharpCacheDir, versions[0]!, "@img", pkg, "lib"));
    expect(lib("sharp-linux-x64").some((f) => f.endsWith(".node"))).toBe(true);
    expect(lib("sharp-libvips-linux-x64").some((f) => f.startsWith("libvips-cpp.so."))).toBe(true);
    // Second run reuses the extracted files.
    expect((await run(["selftest"])).exitCode).toBe(0);
  });

  test("woolly migrate creates the schema in an empty database", async () => {
    const { stdout, stderr, exitCode } = await run(["migrate"], 120_000);
    expect({ exitCode, stdout, stderr }).toMatchObject({ exitCode: 0 });
    const db = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await db<{ n: number }[]>`
        SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`;
      expect(row!.n).toBeGreaterThan(0);
    } finally {
      await db.end({ timeout: 5 });
    }
  }, 130_000);

  test("woolly web answers /health within 10 s and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const streamingPort = await freePort();
    const proc = Bun.spawn([join(workDir, "woolly"), "web", "--port", String(port)], {
      cwd: workDir,
      env: childEnv({ STREAMING_PORT: String(streamingPort) }),
      stdout: "pipe",
      stderr: "pipe",
    });
    running.add(proc);
    const stdout = new Response(proc.stdout).text();
    const stderr = new Response(proc.stderr).text();
    try {
      const started = performance.now();
      let status = 0;
      let lastError = "";
      while (performance.now() - started < 10_000 && proc.exitCode === null) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
          status = res.status;
          await res.arrayBuffer();
          if (status === 200) break;
        } catch (err) {
          lastError = err instanceof Error ? err.message : String(err);
        }
        await Bun.sleep(50);
      }
      if (status !== 200) {
        proc.kill("SIGKILL");
        await proc.exited;
        throw new Error(
          `no 200 from /health within 10 s (last status ${status}, last error ${lastError}, exit ${proc.exitCode})\n` +
            `stdout: ${await stdout}\nstderr: ${await stderr}`,
        );
      }
      proc.kill("SIGTERM");
      const code = await exitWithin(proc, 15_000);
      if (code !== 0) {
        if (code === "timeout") proc.kill("SIGKILL");
        throw new Error(`after SIGTERM: ${code}\nstdout: ${await stdout}\nstderr: ${await stderr}`);
      }
      expect(await stderr).not.toContain("stray bunfig.toml preload ran");
    } finally {
      running.delete(proc);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  }, 40_000);
});
