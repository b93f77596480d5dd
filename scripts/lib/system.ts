// Platform helpers for laptop mode (scripts/laptop.ts): finding programs, installing Debian
// packages, running commands as an unprivileged user, waiting for ports and processes.
//
// Linux-first (Debian/Ubuntu is what we test); the non-Linux paths degrade to "tell the user
// what to install" rather than trying to be clever.

import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";

/** An error whose message is a complete, user-facing sentence (printed without a stack trace). */
export class LaptopError extends Error {
  override name = "LaptopError";
}

export function log(message: string): void {
  console.log(`[laptop] ${message}`);
}

export function warn(message: string): void {
  console.warn(`[laptop] warning: ${message}`);
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Like `which`, but also looks in the sbin directories a non-root PATH often lacks. */
export function which(command: string): string | null {
  const found = Bun.which(command);
  if (found) return found;
  for (const dir of ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"]) {
    const candidate = `${dir}/${command}`;
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with `promise`'s value, or with "timeout" after `ms` (without keeping the process alive afterwards). */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Running commands

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Run as this unprivileged user (only meaningful when we are root). */
  user?: SystemUser | null;
  /** Show the command's output live instead of capturing it. */
  inherit?: boolean;
  /** Own session: a Ctrl-C in the terminal doesn't interrupt it halfway (the caller decides what to stop). */
  detached?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion. Never throws for a non-zero exit; check `code`. */
export async function run(cmd: string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = options.user ? asUser(options.user, cmd) : cmd;
  let proc;
  try {
    proc = Bun.spawn(argv, {
      cwd: options.cwd,
      env: (options.env ?? process.env) as Record<string, string>,
      stdin: "ignore",
      stdout: options.inherit ? "inherit" : "pipe",
      stderr: options.inherit ? "inherit" : "pipe",
      detached: options.detached ?? false,
    });
  } catch (error) {
    return { code: 127, stdout: "", stderr: `${argv[0]}: ${(error as Error).message}` };
  }
  const [stdout, stderr, code] = await Promise.all([
    options.inherit ? "" : new Response(proc.stdout as ReadableStream).text(),
    options.inherit ? "" : new Response(proc.stderr as ReadableStream).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The process environment minus libpq variables (PGPORT, PGDATA, …) that would confuse our own Postgres commands. */
export function envWithoutPg(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("PG")) env[key] = value;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Unprivileged user (initdb and postgres refuse to run as root)

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

export async function lookupUser(name: string): Promise<SystemUser | null> {
  const uid = await run(["id", "-u", name]);
  const gid = await run(["id", "-g", name]);
  if (uid.code !== 0 || gid.code !== 0) return null;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Creates (if missing) a system user without home directory or login shell. Needs root. */
export async function ensureSystemUser(name: string): Promise<SystemUser> {
  const existing = await lookupUser(name);
  if (existing) return existing;
  const useradd = which("useradd");
  if (!useradd) throw new LaptopError(`Cannot create the system user ${name}: useradd not found.`);
  const nologin = ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false"].find((p) => existsSync(p)) ?? "/bin/false";
  log(`Creating the unprivileged system user '${name}' (Postgres refuses to run as root).`);
  const result = await run([useradd, "--system", "--user-group", "--no-create-home", "--shell", nologin, name]);
  const created = await lookupUser(name);
  if (result.code !== 0 || !created) {
    throw new LaptopError(`Could not create the system user ${name}: ${firstLine(result.stderr) || `useradd exited with ${result.code}`}`);
  }
  return created;
}

/** Wraps a command so that it runs as `user` (from root). Prefers setpriv: no PAM session, no shell. */
export function asUser(user: SystemUser, cmd: string[]): string[] {
  if (process.getuid?.() === user.uid) return cmd;
  const setpriv = which("setpriv");
  if (setpriv) return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "--", ...cmd];
  const runuser = which("runuser");
  if (runuser) return [runuser, "-u", user.name, "--", ...cmd];
  throw new LaptopError(`Cannot run commands as ${user.name}: neither setpriv nor runuser (util-linux) is installed.`);
}

/** True when `user` can reach (search) `dir`, i.e. every parent directory is traversable for it. */
export async function canUserTraverse(user: SystemUser, dir: string): Promise<boolean> {
  const result = await run(asUser(user, ["test", "-x", dir]), { cwd: "/" });
  return result.code === 0;
}

/**
 * Prefix that makes a child process receive SIGTERM when laptop.ts dies — even by kill -9 —
 * so that children never outlive us. Linux only (setpriv from util-linux); empty elsewhere.
 */
export function dieWithParentPrefix(): string[] {
  if (process.platform !== "linux") return [];
  const setpriv = which("setpriv");
  return setpriv ? [setpriv, "--pdeathsig", "SIGTERM", "--"] : [];
}

// ---------------------------------------------------------------------------------------------
// Installing packages

let aptUpdated = false;

async function sudoPrefix(): Promise<string[] | null> {
  if (isRoot()) return [];
  const sudo = which("sudo");
  if (!sudo) return null;
  const probe = await run([sudo, "-n", "true"]);
  return probe.code === 0 ? [sudo, "-n"] : null;
}

/** True when we could install Debian packages without asking for a password. */
export async function canAptInstall(): Promise<boolean> {
  return process.platform === "linux" && which("apt-get") !== null && (await sudoPrefix()) !== null;
}

/**
 * Installs Debian/Ubuntu packages with apt-get (as root, or through passwordless sudo).
 * Returns false — without printing anything — when that isn't possible here.
 * Throws a LaptopError when apt-get itself fails.
 */
export async function aptInstall(packages: string[], why: string, options: { simulate?: boolean } = {}): Promise<boolean> {
  const aptGet = which("apt-get");
  const prefix = await sudoPrefix();
  if (process.platform !== "linux" || !aptGet || prefix === null) return false;

  const env = ["env", "DEBIAN_FRONTEND=noninteractive"];
  log(`Installing ${packages.join(", ")} with apt-get: ${why}`);
  // A fresh machine (or a container image) often has empty package lists: refresh them when
  // apt doesn't know an installation candidate yet.
  if (!aptUpdated && !(await aptHasCandidates(packages))) {
    log("Running apt-get update first (the package lists don't know these packages yet).");
    const update = await run([...prefix, ...env, aptGet, "update"], { inherit: true });
    if (update.code !== 0) throw new LaptopError(`apt-get update failed (exit ${update.code}); fix it and retry, or install ${packages.join(" ")} yourself.`);
    aptUpdated = true;
  }
  const args = [...prefix, ...env, aptGet, "install", "-y", "--no-install-recommends", ...(options.simulate ? ["--simulate"] : []), ...packages];
  log(`$ ${args.join(" ")}`);
  const install = await run(args, { inherit: true });
  if (install.code !== 0) {
    throw new LaptopError(`apt-get install ${packages.join(" ")} failed (exit ${install.code}); install it yourself and retry.`);
  }
  return true;
}

async function aptHasCandidates(packages: string[]): Promise<boolean> {
  const aptCache = which("apt-cache");
  if (!aptCache) return false;
  const policy = await run([aptCache, "policy", ...packages]);
  if (policy.code !== 0) return false;
  const candidates = [...policy.stdout.matchAll(/Candidate:\s*(\S+)/g)].map((m) => m[1]);
  return candidates.length === packages.length && candidates.every((c) => c !== "(none)");
}

// ---------------------------------------------------------------------------------------------
// Ports and processes

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Waits until host:port accepts connections. `check` is polled too: if it returns a string
 * (e.g. "the process exited"), waiting stops with that as the error.
 */
export async function waitForPort(
  host: string,
  port: number,
  options: { timeoutMs: number; check?: () => string | null },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const problem = options.check?.();
    if (problem) throw new LaptopError(problem);
    if (await isPortOpen(host, port, 500)) return;
    if (Date.now() > deadline) throw new LaptopError(`Nothing is listening on ${host}:${port} after ${Math.round(options.timeoutMs / 1000)} s.`);
    await sleep(150);
  }
}

/** True when the process exists and is not a zombie (exited, waiting to be reaped). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return process.platform !== "linux"; // no /proc: trust kill(pid, 0)
  }
}

/** The command line of a running process (Linux /proc), or null when unknown. */
export function processCommandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return null;
  }
}

/** Sends SIGTERM, waits up to `timeoutMs`, then SIGKILL. Returns once the process is gone. */
export async function terminatePid(pid: number, timeoutMs: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isProcessAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    const killDeadline = Date.now() + 5000;
    while (isProcessAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
}

export function tailFile(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
