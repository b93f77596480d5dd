// A private Redis for laptop mode: a child process of laptop.ts on its own port (63799 by
// default), bound to 127.0.0.1, persisting into <dataDir>/redis (append-only file). Redis only
// holds queues and caches — Postgres is the source of truth — but persistence means queued jobs
// survive a restart. Runs as the current user (root is fine for Redis).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import {
  aptInstall,
  dieWithParentPrefix,
  isPortOpen,
  isProcessAlive,
  LaptopError,
  log,
  processCommandLine,
  sleep,
  tailFile,
  terminatePid,
  which,
  withTimeout,
} from "./system.ts";

export const DEFAULT_REDIS_PORT = 63799;

export interface PrivateRedisOptions {
  /** The laptop data directory (`.data`); Redis persists into `<dataDir>/redis`. */
  dataDir: string;
  port?: number;
  /** Allow installing the `redis-server` Debian package when missing (default true). */
  allowInstall?: boolean;
}

export interface PrivateRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly pid: number;
  readonly process: Subprocess;
  /** Resolves with the exit code when the server exits (for whatever reason). */
  readonly exited: Promise<number>;
}

export function privateRedisUrl(port: number): string {
  return `redis://127.0.0.1:${port}`;
}

export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? DEFAULT_REDIS_PORT;
  const dir = join(dataDir, "redis");
  const logFile = join(dataDir, "redis.log");
  const pidFile = join(dir, "redis.pid");
  const configFile = join(dir, "redis.conf");
  mkdirSync(dir, { recursive: true });

  const redisServer = await locateRedisServer(options.allowInstall ?? true);

  // A Redis left over from a previous run that didn't stop cleanly: shut it down (SIGTERM makes
  // it flush its append-only file) and start our own child instead.
  const leftover = await stopLeftoverRedis(dataDir);
  if (leftover) log(`Stopped a private Redis left over from a previous run (pid ${leftover}).`);
  if (await isPortOpen("127.0.0.1", port)) {
    throw new LaptopError(
      `Port ${port} is already in use by another program, so the private Redis cannot start; free it, pick another port (--redis-port), or set REDIS_URL.`,
    );
  }

  // A config file rather than command-line flags: values are quoted, so paths may contain spaces.
  const quote = (value: string) => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  writeFileSync(
    configFile,
    [
      "# Written by scripts/laptop.ts on every start; edits are overwritten.",
      `port ${port}`,
      "bind 127.0.0.1",
      "protected-mode yes",
      "daemonize no",
      `dir ${quote(dir)}`,
      `pidfile ${quote(pidFile)}`,
      `logfile ${quote(logFile)}`,
      "appendonly yes",
      'save ""',
      "",
    ].join("\n"),
  );

  const proc = Bun.spawn([...dieWithParentPrefix(), redisServer, configFile], {
    cwd: dir,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    detached: true, // own session: Ctrl-C in the terminal reaches laptop.ts only, which stops Redis last
  });
  let exitCode: number | null = null;
  const exited = proc.exited.then((code) => (exitCode = code));
  const stderr = new Response(proc.stderr).text();

  const redis: PrivateRedis = { url: privateRedisUrl(port), port, dir, logFile, pid: proc.pid, process: proc, exited };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== null) {
      const output = (await stderr).trim() || tailFile(logFile);
      throw new LaptopError(`The private Redis exited during startup (exit ${exitCode}):\n${output}`);
    }
    const reply = await redisPing(port);
    if (reply === "+PONG") break; // "-LOADING …" while it replays the append-only file
    if (Date.now() > deadline) {
      await stopPrivateRedis(redis);
      throw new LaptopError(`The private Redis did not answer PING within 30 s; see ${logFile}.`);
    }
    await sleep(100);
  }
  log(`Private Redis is running on 127.0.0.1:${port} (pid ${proc.pid}, log: ${logFile}).`);
  return redis;
}

/** SIGTERM (Redis flushes its append-only file and exits), SIGKILL after 15 s. */
export async function stopPrivateRedis(redis: PrivateRedis): Promise<void> {
  if (redis.process.exitCode !== null || redis.process.signalCode !== null) return;
  redis.process.kill("SIGTERM");
  if ((await withTimeout(redis.exited, 15_000)) === "timeout") {
    redis.process.kill("SIGKILL");
    await redis.exited;
  }
}

/**
 * Stops a Redis left running for `dataDir` by a previous run (its pid file says so and the
 * process is still a redis-server). Returns the pid it stopped, or null.
 */
export async function stopLeftoverRedis(dataDir: string): Promise<number | null> {
  const pidFile = join(resolve(dataDir), "redis", "redis.pid");
  if (!existsSync(pidFile)) return null;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8").trim(), 10);
  if (!Number.isFinite(pid) || pid === process.pid || !isProcessAlive(pid)) return null;
  const cmdline = processCommandLine(pid);
  if (cmdline !== null && !cmdline.includes("redis-server")) return null; // pid reused by something else
  await terminatePid(pid, 15_000);
  return pid;
}

/** Sends PING; resolves with the first reply line ("+PONG", "-LOADING …") or null. */
export function redisPing(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<string | null> {
  return new Promise((resolvePing) => {
    const socket = connect({ host, port });
    let buffer = "";
    const done = (reply: string | null) => {
      socket.removeAllListeners();
      socket.destroy();
      resolvePing(reply);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.once("error", () => done(null));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      const end = buffer.indexOf("\r\n");
      if (end >= 0) done(buffer.slice(0, end));
    });
  });
}

async function locateRedisServer(allowInstall: boolean): Promise<string> {
  const found = which("redis-server");
  if (found) return found;
  if (
    allowInstall &&
    (await aptInstall(
      ["redis-server"],
      "Woolly keeps its job queues and caches in Redis and redis-server was not found. " +
        "(Debian/Ubuntu also start their own Redis service on port 6379; Woolly doesn't use it — `systemctl disable --now redis-server` if you don't want it.)",
    ))
  ) {
    const installed = which("redis-server");
    if (installed) return installed;
  }
  throw new LaptopError(
    "redis-server not found: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to an existing server.",
  );
}
