#!/usr/bin/env bun
/**
 * Laptop mode: `bun run laptop` runs a whole Woolly instance on this machine, with nothing set up beforehand.
 *
 *   1. A private Postgres (port 54329) and a private Redis (port 63799), both on 127.0.0.1, with their data
 *      under .data/ — unless DATABASE_URL / REDIS_URL are set in the environment, then those are used.
 *      Missing server binaries are installed with apt-get when we are root or have passwordless sudo.
 *   2. .data/env, the instance's settings (written once, then kept; edit it freely).
 *   3. `woolly migrate`, then an owner account if there is none (its password is printed once).
 *   4. `woolly all` in the foreground until Ctrl-C; then everything started here is stopped again.
 *
 * The service logic lives in scripts/lib/private-postgres.ts and scripts/lib/private-redis.ts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import webpush from "web-push";
import {
  DEFAULT_POSTGRES_PORT,
  startPrivatePostgres,
  stopLeftoverPostgres,
  stopPrivatePostgres,
  type PrivatePostgres,
} from "./lib/private-postgres.ts";
import { DEFAULT_REDIS_PORT, startPrivateRedis, stopLeftoverRedis, stopPrivateRedis, type PrivateRedis } from "./lib/private-redis.ts";
import {
  dieWithParentPrefix,
  firstLine,
  isPortOpen,
  isProcessAlive,
  LaptopError,
  log,
  processCommandLine,
  waitForPort,
  warn,
  withTimeout,
} from "./lib/system.ts";

const REPO_ROOT = resolve(import.meta.dir, "..");
const DEFAULT_WEB_PORT = 3000;
/** `woolly all` stops within SHUTDOWN_TIMEOUT (25 s by default); after this long it is killed. */
const WOOLLY_STOP_TIMEOUT_MS = 40_000;

const HELP = `Usage: bun run laptop [options]

Runs a complete Woolly instance on this machine: a private PostgreSQL and Redis (unless
DATABASE_URL / REDIS_URL are set in your environment), migrations, an owner account, and
\`woolly all\` on http://localhost:3000. Ctrl-C stops everything it started.

Options:
  --data-dir DIR     where data and settings live (default ./.data)
  --port N           web port (default: PORT from the environment or DIR/env, else 3000)
  --pg-port N        port of the private PostgreSQL (default ${DEFAULT_POSTGRES_PORT})
  --redis-port N     port of the private Redis (default ${DEFAULT_REDIS_PORT})
  --stop             stop a private PostgreSQL/Redis left running by a run that was killed, then exit
  --help             show this help

Settings are in DIR/env; variables set in your environment win over it.`;

interface Options {
  dataDir: string;
  port?: number;
  pgPort: number;
  redisPort: number;
  stopLeftovers: boolean;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      "pg-port": { type: "string" },
      "redis-port": { type: "string" },
      stop: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  const portOption = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    const port = Number(value);
    if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new LaptopError(`--${name} expects a port number (1-65535), got "${value}".`);
    return port;
  };
  return {
    dataDir: resolve(values["data-dir"] ?? join(REPO_ROOT, ".data")),
    port: portOption("port", values.port),
    pgPort: portOption("pg-port", values["pg-port"]) ?? DEFAULT_POSTGRES_PORT,
    redisPort: portOption("redis-port", values["redis-port"]) ?? DEFAULT_REDIS_PORT,
    stopLeftovers: values.stop ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// Stopping: signals, and everything started so far (in reverse order)

const cleanups: { name: string; run: () => Promise<void> }[] = [];
let stopRequested = false;
let woollyChild: Subprocess | null = null; // the woolly command running right now, if any
let notifyStop: () => void = () => {};
const stopSignal = new Promise<void>((resolve) => (notifyStop = resolve));

class Interrupted extends Error {}

let firstSignalAt = 0;

function onSignal(signal: NodeJS.Signals): void {
  if (!stopRequested) {
    stopRequested = true;
    firstSignalAt = Date.now();
    console.log(`\n[laptop] ${signal}: stopping… (press Ctrl-C again to stop at once)`);
    woollyChild?.kill("SIGTERM");
    notifyStop();
  } else if (Date.now() - firstSignalAt > 1000) {
    // (Within the first second it is the same Ctrl-C twice: the terminal signals the whole process
    // group, and `bun run laptop` forwards it to us as well.)
    log("Stopping at once.");
    woollyChild?.kill("SIGKILL");
  }
}

function checkpoint(): void {
  if (stopRequested) throw new Interrupted();
}

async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup.run();
    } catch (error) {
      warn(`stopping ${cleanup.name} failed: ${(error as Error).message}`);
    }
  }
  cleanups.length = 0;
}

/** One laptop.ts per data dir: a second one would stop the first one's Redis. */
function acquireLock(dataDir: string): void {
  const lockFile = join(dataDir, "laptop.pid");
  if (existsSync(lockFile)) {
    const pid = Number.parseInt(readFileSync(lockFile, "utf8").trim(), 10);
    if (Number.isFinite(pid) && pid !== process.pid && isProcessAlive(pid) && (processCommandLine(pid) ?? "laptop").includes("laptop")) {
      throw new LaptopError(`Laptop mode is already running with ${dataDir} (pid ${pid}); stop it first (Ctrl-C there, or kill ${pid}).`);
    }
  }
  writeFileSync(lockFile, `${process.pid}\n`);
  cleanups.push({
    name: "lock file",
    run: async () => {
      if (readFileSync(lockFile, "utf8").trim() === String(process.pid)) rmSync(lockFile);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// .data/env

const ENV_HEADER = `# Woolly settings for laptop mode, written by \`bun run laptop\` (scripts/laptop.ts).
# Edit freely: your values are kept. Variables set in your shell environment win over this file.
# DATABASE_URL and REDIS_URL are managed by laptop mode (they point at its private servers); to use your
# own servers, export DATABASE_URL / REDIS_URL before \`bun run laptop\` instead of editing them here.
`;

/** Reads KEY=value lines (the woolly binary's own parser is the reference: src/infra/config.ts). */
function readEnvFile(path: string): Map<string, string> {
  const values = new Map<string, string>();
  if (!existsSync(path)) return values;
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, "");
    values.set(match[1]!, value);
  }
  return values;
}

function envLine(key: string, value: string): string {
  if (!/[\s#"'\\]/.test(value)) return `${key}=${value}`;
  return value.includes('"') ? `${key}='${value}'` : `${key}="${value}"`;
}

/**
 * Updates the env file in place, keeping the user's lines and comments: `set` replaces or adds,
 * `setIfMissing` only adds, `remove` deletes. Mode 0600: it holds SECRET_KEY_BASE.
 */
function updateEnvFile(path: string, changes: { set: Record<string, string>; setIfMissing: Record<string, string>; remove: string[] }): void {
  const existing = existsSync(path) ? readFileSync(path, "utf8").replace(/\n$/, "").split("\n") : ENV_HEADER.trimEnd().split("\n");
  const present = readEnvFile(path);
  const keyOf = (line: string) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
  const lines: string[] = [];
  for (const line of existing) {
    const key = keyOf(line);
    if (key && changes.remove.includes(key)) continue;
    if (key && key in changes.set) lines.push(envLine(key, changes.set[key]!));
    else lines.push(line);
  }
  const add = { ...changes.setIfMissing, ...changes.set };
  for (const [key, value] of Object.entries(add)) {
    if (!present.has(key)) lines.push(envLine(key, value));
  }
  writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// Running the woolly CLI from source

interface WoollyRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bun src/main.ts --env-file ENV ARGS…`. The child gets its own session (Ctrl-C in the terminal reaches
 * only us; we forward one SIGTERM — woolly treats a second signal as "exit at once") and dies with us even if
 * we are killed with kill -9 (see dieWithParentPrefix).
 */
function spawnWoolly(envFile: string, args: string[], env: Record<string, string>, capture: boolean, interruptible = true): Subprocess {
  checkpoint();
  const child = Bun.spawn([...dieWithParentPrefix(), process.execPath, join(REPO_ROOT, "src/main.ts"), "--env-file", envFile, ...args], {
    cwd: REPO_ROOT,
    env,
    stdin: "ignore",
    stdout: capture ? "pipe" : "inherit",
    stderr: capture ? "pipe" : "inherit",
    detached: true,
  });
  if (!interruptible) return child;
  woollyChild = child;
  void child.exited.then(() => {
    if (woollyChild === child) woollyChild = null;
  });
  return child;
}

/** Runs a woolly command to completion. A non-interruptible one finishes even after Ctrl-C (and no checkpoint follows). */
async function runWoolly(envFile: string, args: string[], env: Record<string, string>, capture = false, interruptible = true): Promise<WoollyRun> {
  const child = spawnWoolly(envFile, args, env, capture, interruptible);
  const [stdout, stderr, code] = await Promise.all([
    capture ? new Response(child.stdout as ReadableStream).text() : "",
    capture ? new Response(child.stderr as ReadableStream).text() : "",
    child.exited,
  ]);
  if (interruptible) checkpoint();
  return { code, stdout, stderr };
}

/** Makes sure an Owner account exists; returns a description of it for the banner, or null. */
async function ensureOwnerAccount(envFile: string, env: Record<string, string>, url: string): Promise<string | null> {
  const list = await runWoolly(envFile, ["admin", "accounts", "list", "--json"], env, true);
  if (list.code === 2 && /unknown command/.test(list.stderr)) {
    log("Owner account creation not available yet in this build (no `woolly admin accounts`); skipping it.");
    return null;
  }
  if (list.code !== 0) {
    warn(`could not list accounts (exit ${list.code}: ${firstLine(list.stderr) || firstLine(list.stdout)}); not creating an owner account.`);
    return null;
  }
  let accounts: { username?: string; email?: string; role?: string }[];
  try {
    const text = list.stdout.trim();
    accounts = JSON.parse(text.slice(text.indexOf("[")));
  } catch {
    warn(`\`woolly admin accounts list --json\` did not print JSON; not creating an owner account.`);
    return null;
  }
  const owner = accounts.find((a) => a.role?.toLowerCase() === "owner");
  if (owner) return `@${owner.username} <${owner.email}>`;
  log("Creating the owner account…");
  // Not interruptible: an account created without its (only once shown) password being printed would be lost.
  const create = await runWoolly(
    envFile,
    ["admin", "accounts", "create", "owner", "--email", "owner@localhost", "--role", "Owner", "--confirmed", "--approve"],
    env,
    true,
    false,
  );
  const output = `${create.stdout}${create.stderr}`.trimEnd();
  if (create.code !== 0) {
    warn(`creating the owner account failed (exit ${create.code}):\n${output}`);
    return null;
  }
  const rule = "─".repeat(76);
  console.log(`\n┌${rule}\n│ Your owner account — keep this password, it is shown only once:\n│`);
  for (const line of output.split("\n")) console.log(`│   ${line}`);
  console.log(`│\n│ Sign in at ${url} with owner@localhost and this password.\n└${rule}\n`);
  return "@owner <owner@localhost>";
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) {
    console.log(HELP);
    return 0;
  }
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);

  const { dataDir } = options;
  mkdirSync(dataDir, { recursive: true });
  acquireLock(dataDir);

  if (options.stopLeftovers) {
    const redis = await stopLeftoverRedis(dataDir);
    const pg = await stopLeftoverPostgres(dataDir);
    log(redis ? `Stopped the private Redis (pid ${redis}).` : "No private Redis was running.");
    log(pg ? `Stopped the private Postgres (pid ${pg}).` : "No private Postgres was running.");
    return 0;
  }

  if (!existsSync(join(REPO_ROOT, "src/main.ts"))) throw new LaptopError(`${join(REPO_ROOT, "src/main.ts")} is missing: laptop mode runs Woolly from a source checkout.`);

  const envFile = join(dataDir, "env");
  const fileValues = readEnvFile(envFile);
  const firstRun = !existsSync(envFile);
  const port = options.port ?? Number(process.env.PORT || fileValues.get("PORT") || DEFAULT_WEB_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LaptopError(`PORT must be a port number; pass --port N.`);
  const show = (path: string) => (path.startsWith(REPO_ROOT + "/") ? relative(process.cwd(), path) || "." : path);

  // Fail fast, before starting anything, when the web port is taken (another Woolly, another engineer…).
  if (await isPortOpen("127.0.0.1", port)) {
    throw new LaptopError(`Port ${port} is already in use on 127.0.0.1; stop whatever uses it or pick another port with --port N.`);
  }
  const localDomain = fileValues.get("LOCAL_DOMAIN");
  if (localDomain?.startsWith("localhost:") && localDomain !== `localhost:${port}` && !process.env.LOCAL_DOMAIN) {
    warn(
      `LOCAL_DOMAIN in ${show(envFile)} is ${localDomain}, but Woolly will listen on port ${port}: links it generates point at ${localDomain}. ` +
        `Changing LOCAL_DOMAIN of an existing instance breaks its accounts, so use a fresh --data-dir for another port.`,
    );
  }

  const dirs = { media: join(dataDir, "media"), mail: join(dataDir, "mail"), sharp: join(dataDir, "cache", "sharp") };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });

  // 1. Postgres and Redis
  let pg: PrivatePostgres | null = null;
  let redis: PrivateRedis | null = null;
  if (process.env.DATABASE_URL) {
    log("Using DATABASE_URL from your environment (or ./.env, which Bun reads): no private Postgres.");
  } else {
    // Registered first, so that a failure or Ctrl-C in the middle of starting also stops it.
    cleanups.push({
      name: "Postgres",
      run: async () => {
        if (pg) {
          log("Stopping the private Postgres…");
          await stopPrivatePostgres(pg);
        } else if (await stopLeftoverPostgres(dataDir)) log("Stopped the private Postgres.");
      },
    });
    pg = await startPrivatePostgres({ dataDir, port: options.pgPort });
    const started = pg;
    if (firstRun && !started.created) {
      // E.g. a relocated cluster (/var/tmp/…) outlives `rm -rf .data`: new settings, old data.
      warn(`${show(envFile)} is new but the Postgres cluster in ${show(started.pgdata)} is not: its data is kept. Delete that directory too to start from scratch.`);
    }
  }
  checkpoint();
  if (process.env.REDIS_URL) {
    log("Using REDIS_URL from your environment (or ./.env, which Bun reads): no private Redis.");
  } else {
    cleanups.push({
      name: "Redis",
      run: async () => {
        if (redis) {
          log("Stopping the private Redis…");
          await stopPrivateRedis(redis);
        } else if (await stopLeftoverRedis(dataDir)) log("Stopped the private Redis.");
      },
    });
    redis = await startPrivateRedis({ dataDir, port: options.redisPort });
  }
  checkpoint();

  // 2. Settings. A fresh Web Push (VAPID) pair each run, used only when the file has none yet: clients'
  // push subscriptions are tied to the pair, so it must never change under them.
  const vapid = webpush.generateVAPIDKeys();
  updateEnvFile(envFile, {
    set: { ...(pg ? { DATABASE_URL: pg.url } : {}), ...(redis ? { REDIS_URL: redis.url } : {}) },
    setIfMissing: {
      LOCAL_DOMAIN: `localhost:${port}`,
      LOCAL_HTTPS: "false",
      SECRET_KEY_BASE: randomBytes(64).toString("hex"),
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      PAPERCLIP_ROOT_PATH: dirs.media,
      MAIL_OUTBOX_DIR: dirs.mail,
      SHARP_CACHE_DIR: dirs.sharp,
      PORT: String(port),
      BIND: "127.0.0.1",
    },
    remove: [...(pg ? [] : ["DATABASE_URL"]), ...(redis ? [] : ["REDIS_URL"])],
  });
  if (firstRun) log(`Wrote the instance settings to ${show(envFile)}.`);
  const childEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...(redis ? { REDIS_URL: redis.url } : {}),
  };

  // 3. Schema and owner account
  log("Applying database migrations…");
  const migrate = await runWoolly(envFile, ["migrate"], childEnv);
  if (migrate.code !== 0) throw new LaptopError(`\`woolly migrate\` failed (exit ${migrate.code}); see its output above.`);
  const url = `http://localhost:${port}`;
  const owner = await ensureOwnerAccount(envFile, childEnv, url);
  checkpoint();

  // 4. The instance. The streaming API is served on the web port too, so no second port is opened.
  log("Starting Woolly (web, streaming, workers and scheduler in one process)…");
  const woolly = spawnWoolly(envFile, ["all", "--streaming-port", "0"], childEnv, false);
  let woollyExit: number | null = null;
  const woollyExited = woolly.exited.then((code) => (woollyExit = code));
  try {
    await waitForPort("127.0.0.1", port, {
      timeoutMs: 120_000,
      check: () => (woollyExit !== null ? "exited" : stopRequested ? "stopping" : null),
    });
  } catch (error) {
    // Exited or stopping: handled below like at any other time. Otherwise it is merely slow.
    if (woollyExit === null && !stopRequested) warn(`${(error as Error).message} Still waiting for Woolly…`);
  }
  if (woollyExit === null && !stopRequested) {
    const lines = [
      `Woolly is running:  ${url}`,
      "",
      ...(owner ? [`Owner:     ${owner}`] : []),
      `Settings:  ${show(envFile)}`,
      `Mail:      ${show(dirs.mail)}  (nothing is sent; each message is written there as a file)`,
      `Media:     ${show(dirs.media)}`,
      ...(pg ? [`Postgres:  ${pg.url}  (log: ${show(pg.logFile)})`] : []),
      ...(redis ? [`Redis:     ${redis.url}  (log: ${show(redis.logFile)})`] : []),
      "",
      "Press Ctrl-C to stop everything.",
    ];
    const width = Math.max(...lines.map((l) => l.length)) + 2;
    console.log(`\n╔${"═".repeat(width)}╗\n${lines.map((l) => `║ ${l.padEnd(width - 1)}║`).join("\n")}\n╚${"═".repeat(width)}╝\n`);
  }

  // Run until Ctrl-C / SIGTERM, until Woolly exits by itself, or until the private Redis dies.
  const redisDied = redis ? redis.exited.then((code) => code) : new Promise<number>(() => {});
  const outcome = await Promise.race([
    woollyExited.then(() => "woolly" as const),
    stopSignal.then(() => "signal" as const),
    redisDied.then(() => "redis" as const),
  ]);
  if (outcome === "redis") {
    warn(`the private Redis exited unexpectedly (see ${show(redis!.logFile)}); stopping Woolly.`);
    woolly.kill("SIGTERM");
  }
  if (outcome !== "woolly") {
    if ((await withTimeout(woollyExited, WOOLLY_STOP_TIMEOUT_MS)) === "timeout") {
      warn(`Woolly did not stop within ${WOOLLY_STOP_TIMEOUT_MS / 1000} s; killing it.`);
      woolly.kill("SIGKILL");
      await woollyExited;
    }
  }
  if (outcome === "woolly" && !stopRequested) {
    const code = woolly.exitCode ?? 128 + signalNumber(woolly.signalCode);
    log(`Woolly exited by itself (${woolly.signalCode ? `signal ${woolly.signalCode}` : `exit ${woolly.exitCode}`}); stopping the services.`);
    return code;
  }
  return outcome === "redis" ? 1 : 0;
}

function signalNumber(signal: NodeJS.Signals | number | null): number {
  if (typeof signal === "number") return signal;
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };
  return (signal && numbers[signal]) || 1;
}

let exitCode: number;
let failure: (() => void) | null = null; // printed after stopping everything, so it is the last thing on screen
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof Interrupted || stopRequested) {
    exitCode = 0;
  } else if (error instanceof LaptopError) {
    failure = () => console.error(`[laptop] ${error.message}`);
    exitCode = 1;
  } else if (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    failure = () => console.error(`[laptop] ${error.message}\n\n${HELP}`);
    exitCode = 2;
  } else {
    failure = () => console.error(error);
    exitCode = 1;
  }
}
await runCleanups();
failure?.();
if (exitCode === 0 && stopRequested) log("Stopped.");
process.exit(exitCode);
