/**
 * What the benches share: the database and Redis they run against, the environment a woolly process gets,
 * and small process helpers. Both default to a bench database of their own (created and migrated here).
 */
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
