/**
 * Running the real `woolly` CLI as a child process (from source), the way an operator or systemd does.
 */
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");
export const MAIN = resolve(ROOT, "src/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `woolly ARGS` to completion with the test environment plus `env` (a value of undefined removes it). */
export async function runWoolly(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<CliResult> {
  const proc = Bun.spawn(["bun", MAIN, ...args], { env: mergedEnv(env), stdout: "pipe", stderr: "pipe", cwd: ROOT });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Start a long-running role; the caller stops it. */
export function spawnWoolly(args: string[], env: Record<string, string | undefined> = {}) {
  return Bun.spawn(["bun", MAIN, ...args], { env: mergedEnv(env), stdout: "pipe", stderr: "pipe", cwd: ROOT });
}

export function mergedEnv(env: Record<string, string | undefined>): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
}

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** Poll until fn returns a truthy value or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await Bun.sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ""}`);
}

export async function waitForHealthy(port: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200, timeoutMs);
}
