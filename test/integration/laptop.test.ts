/**
 * Laptop mode's service management (scripts/lib/private-postgres.ts, scripts/lib/private-redis.ts), against
 * the real server binaries of this machine, in temporary data dirs on free ports.
 *
 * Covers: initdb + start of a private Postgres (as the woolly-dev user when root), the `woolly` database, TCP on
 * 127.0.0.1 only; a private Redis child with append-only persistence; stop → processes gone and ports closed;
 * a second start reusing the data; a Postgres left running (laptop.ts killed) being reused, and a Redis left
 * running being replaced; when root, the relocation of the cluster to /var/tmp when the data dir isn't
 * reachable by woolly-dev.
 * Not covered: scripts/laptop.ts itself (migrate, owner account, `woolly all`, signals) and installing
 * packages with apt-get — those are checked by hand.
 * Skipped when no PostgreSQL server binaries or redis-server are installed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import {
  findPostgresBinaries,
  relocatedBaseDir,
  startPrivatePostgres,
  stopPrivatePostgres,
  type PrivatePostgres,
} from "../../scripts/lib/private-postgres.ts";
import { redisPing, startPrivateRedis, stopPrivateRedis, type PrivateRedis } from "../../scripts/lib/private-redis.ts";
import { isPortOpen, isProcessAlive, isRoot, which } from "../../scripts/lib/system.ts";

const available = (await findPostgresBinaries()).length > 0 && which("redis-server") !== null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function postmasterPid(pg: PrivatePostgres): number {
  return Number.parseInt(readFileSync(join(pg.pgdata, "postmaster.pid"), "utf8").split("\n")[0]!, 10);
}

async function query(pg: PrivatePostgres, text: string): Promise<Record<string, unknown>[]> {
  const sql = new SQL({ hostname: "127.0.0.1", port: pg.port, username: "postgres", database: pg.database, max: 1 });
  try {
    return [...(await sql.unsafe(text))];
  } finally {
    await sql.close();
  }
}

const tempDirs: string[] = [];
const running: { pg: PrivatePostgres[]; redis: PrivateRedis[] } = { pg: [], redis: [] };

function makeDataDir(mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), "woolly-laptop-test-"));
  chmodSync(dir, mode);
  tempDirs.push(dir, relocatedBaseDir(dir));
  return dir;
}

afterAll(async () => {
  for (const redis of running.redis) await stopPrivateRedis(redis).catch(() => {});
  for (const pg of running.pg) await stopPrivatePostgres(pg).catch(() => {});
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)("laptop mode: private Postgres and Redis", () => {
  test("start, use, stop, start again, and take over what a killed run left behind", async () => {
    const dataDir = makeDataDir(0o755);
    const [pgPort, redisPort] = [await freePort(), await freePort()];

    // First start: a new cluster with the `woolly` database, reachable over TCP on 127.0.0.1.
    const pg = await startPrivatePostgres({ dataDir, port: pgPort, allowInstall: false });
    running.pg.push(pg);
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pgPort}/woolly`);
    expect(pg.created).toBe(true);
    expect(pg.reused).toBe(false);
    expect(pg.relocated).toBe(false);
    expect(pg.pgdata).toBe(join(dataDir, "postgres"));
    expect(await query(pg, "SELECT current_database() AS db, current_setting('listen_addresses') AS listen")).toEqual([
      { db: "woolly", listen: "127.0.0.1" },
    ]);
    if (isRoot()) expect(pg.runAs?.name).toBe("woolly-dev");

    const redis = await startPrivateRedis({ dataDir, port: redisPort, allowInstall: false });
    running.redis.push(redis);
    expect(redis.url).toBe(`redis://127.0.0.1:${redisPort}`);
    expect(await redisPing(redisPort)).toBe("+PONG");

    // Stop: nothing left running, ports closed.
    const pgPid = postmasterPid(pg);
    await stopPrivateRedis(redis);
    await stopPrivatePostgres(pg);
    expect(isProcessAlive(pgPid)).toBe(false);
    expect(isProcessAlive(redis.pid)).toBe(false);
    expect(await isPortOpen("127.0.0.1", pgPort)).toBe(false);
    expect(await isPortOpen("127.0.0.1", redisPort)).toBe(false);

    // Second start: same cluster, data kept.
    const pg2 = await startPrivatePostgres({ dataDir, port: pgPort, allowInstall: false });
    running.pg.push(pg2);
    expect(pg2.created).toBe(false);
    expect(pg2.reused).toBe(false);
    await query(pg2, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)");

    // laptop.ts killed with kill -9: Postgres (a daemon) survives and the next start reuses it; a Redis
    // that survived is stopped through its pid file and replaced by a fresh child.
    const pg3 = await startPrivatePostgres({ dataDir, port: pgPort, allowInstall: false });
    running.pg.push(pg3);
    expect(pg3.reused).toBe(true);
    expect(postmasterPid(pg3)).toBe(postmasterPid(pg2));
    expect(await query(pg3, "SELECT x FROM kept")).toEqual([{ x: 42 }]);

    const leftover = await startPrivateRedis({ dataDir, port: redisPort, allowInstall: false });
    running.redis.push(leftover);
    const replacement = await startPrivateRedis({ dataDir, port: redisPort, allowInstall: false });
    running.redis.push(replacement);
    expect(replacement.pid).not.toBe(leftover.pid);
    expect(isProcessAlive(leftover.pid)).toBe(false);
    expect(await redisPing(redisPort)).toBe("+PONG");

    const pg3Pid = postmasterPid(pg3);
    await stopPrivateRedis(replacement);
    await stopPrivatePostgres(pg3);
    expect(isProcessAlive(pg3Pid)).toBe(false);
    expect(isProcessAlive(replacement.pid)).toBe(false);
    expect(await isPortOpen("127.0.0.1", pgPort)).toBe(false);
  }, 60_000);

  test.skipIf(!isRoot())("as root, a data dir woolly-dev cannot reach gets its cluster in /var/tmp", async () => {
    const dataDir = makeDataDir(0o700); // mkdtemp's default: only root may enter
    const pg = await startPrivatePostgres({ dataDir, port: await freePort(), allowInstall: false });
    running.pg.push(pg);
    expect(pg.relocated).toBe(true);
    expect(pg.pgdata).toBe(join(relocatedBaseDir(dataDir), "postgres"));
    expect(await query(pg, "SELECT current_user AS role")).toEqual([{ role: "postgres" }]);
    const pid = postmasterPid(pg);
    await stopPrivatePostgres(pg);
    expect(isProcessAlive(pid)).toBe(false);
  }, 60_000);
});
