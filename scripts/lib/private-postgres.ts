// A private PostgreSQL cluster for laptop mode: its own data directory, its own port (54329 by
// default, so it never clashes with a system server on 5432), listening on 127.0.0.1 only,
// trust authentication for the `postgres` role. Started from the system's server binaries
// (installed with apt-get when missing and we are allowed to).
//
// initdb and postgres refuse to run as root: when we are root the cluster is owned by, and runs
// as, the unprivileged system user `woolly-dev`. If that user cannot reach the data directory
// (e.g. the checkout lives under /root, mode 0700), the cluster goes to /var/tmp/woolly-<hash>.

import { createHash } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SQL } from "bun";
import {
  aptInstall,
  canUserTraverse,
  ensureSystemUser,
  envWithoutPg,
  firstLine,
  isPortOpen,
  isProcessAlive,
  isRoot,
  LaptopError,
  log,
  lookupUser,
  processCommandLine,
  run,
  shellQuote,
  sleep,
  tailFile,
  which,
  type SystemUser,
} from "./system.ts";

export const DEFAULT_POSTGRES_PORT = 54329;
/** The unprivileged user that owns and runs the cluster when laptop mode runs as root. */
export const POSTGRES_RUN_AS = "woolly-dev";

export interface PrivatePostgresOptions {
  /** The laptop data directory (`.data`); the cluster lives in `<dataDir>/postgres` unless relocated. */
  dataDir: string;
  port?: number;
  /** Database to create if missing (default "woolly"). */
  database?: string;
  /** Allow installing the `postgresql` Debian package when no server binaries exist (default true). */
  allowInstall?: boolean;
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  readonly url: string;
  readonly port: number;
  readonly database: string;
  readonly version: number;
  /** Directory holding the cluster (`postgres/`), its log and its socket directory. */
  readonly baseDir: string;
  readonly pgdata: string;
  readonly logFile: string;
  /** True when the cluster lives in /var/tmp because the data dir isn't reachable by woolly-dev. */
  readonly relocated: boolean;
  /** True when initdb ran now (a new, empty cluster). */
  readonly created: boolean;
  /** True when a server left running by a previous run was reused instead of started. */
  readonly reused: boolean;
  readonly pgCtl: string;
  readonly runAs: SystemUser | null;
}

interface Layout {
  baseDir: string;
  pgdata: string;
  logFile: string;
  /** Unix socket directory, or "" when its path would be too long for a socket (TCP only then). */
  socketDir: string;
  relocated: boolean;
}

interface Binaries {
  version: number;
  binDir: string;
  initdb: string;
  pgCtl: string;
}

export function privatePostgresUrl(port: number, database = "woolly"): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}

export async function startPrivatePostgres(options: PrivatePostgresOptions): Promise<PrivatePostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? DEFAULT_POSTGRES_PORT;
  const database = options.database ?? "woolly";
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new LaptopError(`Invalid database name: ${database}`);
  mkdirSync(dataDir, { recursive: true });

  const runAs = isRoot() ? await ensureSystemUser(POSTGRES_RUN_AS) : null;
  const layout = await chooseLayout(dataDir, runAs, port);
  const existingVersion = clusterVersion(layout.pgdata);
  const bins = await locateBinaries(existingVersion, options.allowInstall ?? true);
  prepareDirectories(layout, runAs);

  if (existingVersion === null) await initCluster(bins, layout, runAs);

  let reused = false;
  const running = runningPostmaster(layout.pgdata);
  if (running && running.port === port) {
    log(`Postgres from a previous run is still running (pid ${running.pid}); reusing it.`);
    reused = true;
  } else {
    if (running) {
      log(`Restarting the private Postgres (it was left running on port ${running.port}, we want ${port}).`);
      await pgCtlStop(bins.pgCtl, layout.pgdata, runAs);
    }
    if (await isPortOpen("127.0.0.1", port)) {
      throw new LaptopError(
        `Port ${port} is already in use by another program, so the private Postgres cannot start; free it, pick another port (--pg-port), or set DATABASE_URL.`,
      );
    }
    await startCluster(bins, layout, runAs, port);
  }

  const pg: PrivatePostgres = {
    url: privatePostgresUrl(port, database),
    port,
    database,
    version: bins.version,
    baseDir: layout.baseDir,
    pgdata: layout.pgdata,
    logFile: layout.logFile,
    relocated: layout.relocated,
    created: existingVersion === null,
    reused,
    pgCtl: bins.pgCtl,
    runAs,
  };
  try {
    await ensureDatabase(port, database);
  } catch (error) {
    await stopPrivatePostgres(pg);
    throw error;
  }
  return pg;
}

/** Fast shutdown (`pg_ctl stop -m fast`): open connections are closed, nothing is lost. */
export async function stopPrivatePostgres(pg: Pick<PrivatePostgres, "pgCtl" | "pgdata" | "runAs">): Promise<void> {
  await pgCtlStop(pg.pgCtl, pg.pgdata, pg.runAs);
}

/**
 * Stops a private Postgres left running for `dataDir` (e.g. after laptop.ts was killed with
 * kill -9). Returns the pid it stopped, or null when nothing was running.
 */
export async function stopLeftoverPostgres(dataDir: string): Promise<number | null> {
  dataDir = resolve(dataDir);
  const layout = [layoutIn(dataDir, false), layoutIn(relocatedBaseDir(dataDir), true)].find((l) => clusterVersion(l.pgdata) !== null);
  if (!layout) return null;
  const running = runningPostmaster(layout.pgdata);
  if (!running) return null;
  const bins = await findPostgresBinaries();
  const pgCtl = bins.find((b) => b.version === clusterVersion(layout.pgdata))?.pgCtl ?? bins[0]?.pgCtl;
  const runAs = isRoot() ? await lookupUser(POSTGRES_RUN_AS) : null;
  if (pgCtl) await pgCtlStop(pgCtl, layout.pgdata, runAs);
  else process.kill(running.pid, "SIGINT"); // SIGINT = fast shutdown
  return running.pid;
}

// ---------------------------------------------------------------------------------------------
// Where the cluster lives

export function relocatedBaseDir(dataDir: string): string {
  const hash = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12);
  return join(existsSync("/var/tmp") ? "/var/tmp" : "/tmp", `woolly-${hash}`);
}

function layoutIn(baseDir: string, relocated: boolean, port = DEFAULT_POSTGRES_PORT): Layout {
  const socketDir = join(baseDir, "postgres-socket");
  // sun_path holds 107 bytes plus NUL; postgres names the socket .s.PGSQL.<port>.
  const socketFits = Buffer.byteLength(`${socketDir}/.s.PGSQL.${port}`) <= 107;
  return {
    baseDir,
    pgdata: join(baseDir, "postgres"),
    logFile: join(baseDir, "postgres.log"),
    socketDir: socketFits ? socketDir : "",
    relocated,
  };
}

async function chooseLayout(dataDir: string, runAs: SystemUser | null, port: number): Promise<Layout> {
  const local = layoutIn(dataDir, false, port);
  if (!runAs) return local; // we run postgres as ourselves: no reachability problem
  const relocated = layoutIn(relocatedBaseDir(dataDir), true, port);
  const localExists = clusterVersion(local.pgdata) !== null;
  let chosen: Layout;
  if (!localExists && clusterVersion(relocated.pgdata) !== null) {
    chosen = relocated;
  } else if (await canUserTraverse(runAs, dataDir)) {
    chosen = local;
  } else if (localExists) {
    throw new LaptopError(
      `${local.pgdata} holds a cluster but the user ${runAs.name} cannot reach it (a parent directory of ${dataDir} is not traversable); run chmod o+x on the parents or use another --data-dir.`,
    );
  } else {
    chosen = relocated;
  }
  if (chosen.relocated) {
    log(
      `Note: ${dataDir} is not reachable by the unprivileged user ${runAs.name} (it or a parent directory is not traversable for that user), ` +
        `so the Postgres cluster lives in ${chosen.pgdata} instead. To wipe the instance, delete both directories.`,
    );
  }
  return chosen;
}

function clusterVersion(pgdata: string): number | null {
  try {
    return Number.parseInt(readFileSync(join(pgdata, "PG_VERSION"), "utf8").trim(), 10);
  } catch {
    return null;
  }
}

function prepareDirectories(layout: Layout, runAs: SystemUser | null): void {
  const own = (path: string) => {
    if (runAs) chownSync(path, runAs.uid, runAs.gid);
  };
  if (layout.relocated) {
    mkdirSync(layout.baseDir, { recursive: true, mode: 0o700 });
    own(layout.baseDir);
  }
  if (!existsSync(layout.pgdata)) {
    mkdirSync(layout.pgdata, { mode: 0o700 });
  } else if (clusterVersion(layout.pgdata) === null && readdirSync(layout.pgdata).length > 0) {
    throw new LaptopError(`${layout.pgdata} exists but is not a Postgres cluster (no PG_VERSION, e.g. an interrupted initdb); delete it and retry.`);
  }
  const owner = statSync(layout.pgdata).uid;
  const wantedUid = runAs ? runAs.uid : process.getuid?.();
  if (wantedUid !== undefined && owner !== wantedUid) {
    if (!isRoot()) {
      throw new LaptopError(`${layout.pgdata} belongs to another user (uid ${owner}); run laptop mode as that user or use another --data-dir.`);
    }
    Bun.spawnSync(["chown", "-R", `${runAs!.uid}:${runAs!.gid}`, layout.pgdata]);
  }
  if (!existsSync(layout.logFile)) writeFileSync(layout.logFile, "", { mode: 0o640 });
  own(layout.logFile);
  if (layout.socketDir) {
    mkdirSync(layout.socketDir, { recursive: true, mode: 0o700 });
    own(layout.socketDir);
  }
}

// ---------------------------------------------------------------------------------------------
// Server binaries

/** Installed server binaries, highest major version first. */
export async function findPostgresBinaries(): Promise<Binaries[]> {
  const found = new Map<string, Binaries>();
  const add = (binDir: string, version: number) => {
    const bins = { version, binDir, initdb: join(binDir, "initdb"), pgCtl: join(binDir, "pg_ctl") };
    if ([bins.initdb, bins.pgCtl, join(binDir, "postgres")].every((p) => existsSync(p))) {
      found.set(realpathSync(binDir), bins);
    }
  };
  // Debian/Ubuntu keep every major version side by side.
  if (existsSync("/usr/lib/postgresql")) {
    for (const entry of readdirSync("/usr/lib/postgresql")) {
      const version = Number.parseInt(entry, 10);
      if (Number.isFinite(version)) add(`/usr/lib/postgresql/${entry}/bin`, version);
    }
  }
  // Anything else on PATH (Homebrew, RPMs, source builds).
  const pgCtlOnPath = which("pg_ctl");
  if (pgCtlOnPath && existsSync(pgCtlOnPath)) {
    const binDir = dirname(realpathSync(pgCtlOnPath));
    if (!found.has(binDir)) {
      const version = (await run([join(binDir, "pg_ctl"), "--version"])).stdout.match(/\(PostgreSQL\)\s+(\d+)/)?.[1];
      if (version) add(binDir, Number(version));
    }
  }
  return [...found.values()].sort((a, b) => b.version - a.version);
}

async function locateBinaries(clusterMajor: number | null, allowInstall: boolean): Promise<Binaries> {
  const pick = (all: Binaries[]) => (clusterMajor === null ? all[0] : all.find((b) => b.version === clusterMajor));
  let all = await findPostgresBinaries();
  if (pick(all)) return pick(all)!;

  if (clusterMajor !== null) {
    // An existing cluster needs the same major version that created it.
    if (allowInstall && (await aptInstall([`postgresql-${clusterMajor}`], `the existing cluster was created by PostgreSQL ${clusterMajor}.`))) {
      all = await findPostgresBinaries();
      if (pick(all)) return pick(all)!;
    }
    throw new LaptopError(
      `The private cluster was created by PostgreSQL ${clusterMajor} but ${all.length ? `only ${all.map((b) => b.version).join(", ")} is` : "no version is"} installed; install postgresql-${clusterMajor} or delete the cluster directory (its data is lost).`,
    );
  }

  if (allowInstall) {
    const installed = await aptInstall(
      ["postgresql"],
      "Woolly keeps all its data in PostgreSQL and no server binaries were found. " +
        "(Debian/Ubuntu also create and start their own cluster on port 5432; Woolly doesn't use it — `systemctl disable --now postgresql` if you don't want it.)",
    );
    if (installed) {
      all = await findPostgresBinaries();
      if (all[0]) return all[0];
    }
  }
  throw new LaptopError(
    "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH): install them (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@16) or set DATABASE_URL to an existing server.",
  );
}

// ---------------------------------------------------------------------------------------------
// initdb, start, stop

function pgRun(cmd: string[], runAs: SystemUser | null) {
  // cwd "/": initdb and pg_ctl fail when the current directory isn't readable by woolly-dev.
  // detached: a Ctrl-C must not interrupt initdb or pg_ctl halfway; laptop.ts stops the cluster afterwards.
  return run(cmd, { user: runAs, cwd: "/", env: envWithoutPg(), detached: true });
}

async function initCluster(bins: Binaries, layout: Layout, runAs: SystemUser | null): Promise<void> {
  const locales = (await run(["locale", "-a"])).stdout.split("\n").map((l) => l.trim().toLowerCase());
  const locale = locales.includes("c.utf8") || locales.includes("c.utf-8") ? "C.UTF-8" : "C";
  log(`Creating a private PostgreSQL ${bins.version} cluster in ${layout.pgdata}${runAs ? ` (owned by ${runAs.name})` : ""}…`);
  const result = await pgRun(
    [bins.initdb, "-D", layout.pgdata, "-A", "trust", "-U", "postgres", "--encoding=UTF8", `--locale=${locale}`],
    runAs,
  );
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-10).join("\n");
    throw new LaptopError(`initdb failed (exit ${result.code}):\n${output}`);
  }
}

async function startCluster(bins: Binaries, layout: Layout, runAs: SystemUser | null, port: number): Promise<void> {
  const serverOptions = [`-p ${port}`, `-k ${shellQuote(layout.socketDir)}`, "-c listen_addresses=127.0.0.1"].join(" ");
  const start = () =>
    pgRun([bins.pgCtl, "-D", layout.pgdata, "-l", layout.logFile, "-o", serverOptions, "-w", "-t", "60", "start"], runAs);
  if (layout.socketDir) removeStaleLockFile(join(layout.socketDir, `.s.PGSQL.${port}.lock`));
  let result = await start();
  for (let attempt = 0; attempt < 5 && result.code !== 0; attempt++) {
    // After a kill -9 of the postmaster, its backends need a moment to notice and exit, and the
    // dead postmaster may not be reaped yet: postgres then still considers its lock files held.
    if (!/still in use|already exists/.test(tailFile(layout.logFile, 5))) break;
    await sleep(1000);
    if (layout.socketDir) removeStaleLockFile(join(layout.socketDir, `.s.PGSQL.${port}.lock`));
    result = await start();
  }
  if (result.code !== 0) {
    throw new LaptopError(
      `The private Postgres did not start (pg_ctl exit ${result.code}: ${firstLine(result.stderr) || firstLine(result.stdout)}). Last lines of ${layout.logFile}:\n${tailFile(layout.logFile)}`,
    );
  }
  log(`Private PostgreSQL ${bins.version} is running on 127.0.0.1:${port} (log: ${layout.logFile}).`);
}

async function pgCtlStop(pgCtl: string, pgdata: string, runAs: SystemUser | null): Promise<void> {
  if (!runningPostmaster(pgdata)) return;
  const result = await pgRun([pgCtl, "-D", pgdata, "-m", "fast", "-w", "-t", "60", "stop"], runAs);
  if (result.code !== 0 && runningPostmaster(pgdata)) {
    throw new LaptopError(`pg_ctl stop failed (exit ${result.code}): ${firstLine(result.stderr)}`);
  }
}

function isLivePostgres(pid: number): boolean {
  if (!Number.isFinite(pid) || !isProcessAlive(pid)) return false;
  const cmdline = processCommandLine(pid);
  return cmdline === null || /postgres|postmaster/.test(cmdline);
}

/** Removes a socket lock file whose owner (first line: pid) is no longer a live postgres. */
function removeStaleLockFile(path: string): void {
  try {
    if (!isLivePostgres(Number.parseInt(readFileSync(path, "utf8").split("\n")[0] ?? "", 10))) rmSync(path);
  } catch {}
}

/**
 * The live postmaster of this cluster according to postmaster.pid, or null. A stale file (the
 * pid is dead, or was reused by an unrelated process after a crash) is removed.
 */
function runningPostmaster(pgdata: string): { pid: number; port: number } | null {
  const pidFile = join(pgdata, "postmaster.pid");
  let lines: string[];
  try {
    lines = readFileSync(pidFile, "utf8").split("\n");
  } catch {
    return null;
  }
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  if (isLivePostgres(pid)) return { pid, port };
  try {
    rmSync(pidFile);
  } catch {}
  return null;
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const sql = new SQL({ hostname: "127.0.0.1", port, username: "postgres", database: "postgres", max: 1, connectionTimeout: 10 });
  try {
    const rows = await sql`SELECT 1 FROM pg_database WHERE datname = ${database}`;
    if (rows.length === 0) {
      await sql.unsafe(`CREATE DATABASE "${database}"`);
      log(`Created database '${database}'.`);
    }
  } catch (error) {
    throw new LaptopError(`Could not prepare database '${database}' on 127.0.0.1:${port}: ${(error as Error).message}`);
  } finally {
    await sql.close();
  }
}
