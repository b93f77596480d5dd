/**
 * What the benches share: the database and Redis they run against, the environment a woolly process gets,
 * and small process helpers. Both default to a bench database of their own (created and migrated here).
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import postgres from "postgres";

export const ROOT = resolve(import.meta.dir, "..");
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench";
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    LOCAL_DOMAIN: "localhost:3000",
    SECRET_KEY_BASE: process.env.SECRET_KEY_BASE ?? "be7c".repeat(32),
    DATABASE_URL,
    REDIS_URL,
    // Threads serving the web port (default: one per CPU); set it to compare, e.g. WEB_CONCURRENCY=1.
    ...(process.env.WEB_CONCURRENCY ? { WEB_CONCURRENCY: process.env.WEB_CONCURRENCY } : {}),
    ...extra,
  };
}

export async function sh(cmd: string[], extraEnv?: Record<string, string>): Promise<void> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: extraEnv ? env(extraEnv) : undefined, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}\n${out}${err}`);
}

export async function prepareDatabase(binary: string): Promise<void> {
  const name = decodeURIComponent(new URL(DATABASE_URL).pathname.slice(1));
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (rows.length === 0) {
      console.error(`creating database ${name}…`);
      await admin.unsafe(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
  await sh([binary, "migrate"], {});
}

export async function freePort(): Promise<number> {
  return await new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => ok(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Drop every BullMQ key of a bench's Redis namespace: jobs a previous run left behind must not run now. */
export async function clearQueuedJobs(redis: { scan(...args: any[]): Promise<[string, string[]]>; del(...keys: string[]): Promise<number> }, namespace: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${namespace}:bull:*`, "COUNT", 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** Clock ticks per second of /proc's utime and stime (Linux's USER_HZ, 100 on every kernel we run on). */
export const CLK_TCK = 100;

/** CPU time a process (all its threads) has used so far, in ms, from /proc; 0 once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
  } catch {
    return 0;
  }
}

/**
 * CPU used by the Postgres backends serving database `dbName` (other than the asking connection), in ms, as a
 * snapshot to diff with postgresCpuMsSince: what a bench's load cost Postgres, next to what it cost woolly.
 */
export async function postgresCpuSnapshot(sql: postgres.Sql, dbName: string): Promise<Map<number, number>> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
  return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
}

export async function postgresCpuMsSince(sql: postgres.Sql, dbName: string, before: Map<number, number>): Promise<number> {
  const after = await postgresCpuSnapshot(sql, dbName);
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}
