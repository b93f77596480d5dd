/**
 * Serving the web port on several threads of one process (WEB_CONCURRENCY), as Puma runs several worker
 * processes: one Bun event loop tops out well below what a multi-core box can answer. `woolly all` must
 * stay one process (laptop mode), so these are Bun Workers (threads), not forked processes.
 *
 * The main thread serves the web port itself (thread 0) and starts WEB_CONCURRENCY - 1 extra threads
 * (cli/roles/web-thread.ts), each with its own server on the same port (SO_REUSEPORT: the kernel spreads
 * new connections across the listeners), its own AppContext and Postgres pool of DB_POOL, so the web port
 * holds up to WEB_CONCURRENCY × DB_POOL connections. In `all`, queues, the scheduler and the separate
 * streaming port stay on the main thread only.
 *
 * What each thread keeps in memory is already safe to keep per process: sign-in and filter caches are
 * emptied by Postgres NOTIFY (a write through one thread empties its own at once, the others' when the
 * NOTIFY arrives, as between web processes), render caches are keyed by versions, streaming presence
 * lives in Redis.
 * Known per-thread differences: the streaming connection limits per token / address count per thread, and
 * /metrics on the web port reports the thread that answered the scrape.
 */
import { Worker } from "node:worker_threads";
import type { AppContext } from "../../infra/context";
import { configureLog, log } from "../../infra/log";
import type { StreamingHub } from "../../streaming/hub";
import { oneLine } from "../boot";
import { CliError, EXIT_FAILURE } from "../command";
import type { StopStep } from "../lifecycle";
import { listen } from "./serve";
import { webPortApp } from "./web-port";

/** What a thread is told at start (worker_threads workerData). */
export interface WebThreadData {
  role: "web" | "all";
  /** 1.. (0 is the main thread), in log lines as `thread`. */
  thread: number;
  /** Mount the streaming API on the web port (`woolly all`). */
  streaming: boolean;
}

export type WebThreadMessage =
  | { type: "ready" }
  | { type: "listening"; port: number }
  | { type: "failed"; message: string; exitCode: number }
  | { type: "stopped" };
export type WebThreadCommand = { type: "listen"; bind: string; port: number } | { type: "stop" };

/** Path of web-thread.ts inside the compiled binary: its path under the build root (scripts/build.ts). */
const COMPILED_ENTRY = "/$bunfs/root/src/cli/roles/web-thread.ts";

function threadEntry(): string | URL {
  return import.meta.path.startsWith("/$bunfs/") ? COMPILED_ENTRY : new URL("./web-thread.ts", import.meta.url);
}

class WebThread {
  readonly worker: Worker;
  private exited = false;
  private stopping = false;
  private readonly exit: Promise<void>;
  /** Messages as they come, kept from the start: a thread may be ready before anyone waits for it. */
  private readonly received: WebThreadMessage[] = [];
  private readonly waiting = new Set<() => void>();

  constructor(readonly data: WebThreadData) {
    const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
    this.worker = new Worker(threadEntry(), { workerData: data, env, name: `web-${data.thread}` });
    this.exit = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.on("message", (message: WebThreadMessage) => {
      this.received.push(message);
      for (const wake of this.waiting) wake();
    });
    // Once serving, a thread only ends when told to; anything else is a bug worth a loud line (the other
    // threads keep serving the port).
    this.worker.on("error", (error: unknown) => {
      this.received.push({ type: "failed", message: `web thread failed: ${oneLine(error)}`, exitCode: EXIT_FAILURE });
      for (const wake of this.waiting) wake();
      if (!this.stopping) log.error("web thread failed", { thread: data.thread, error: oneLine(error) });
    });
    void this.exit.then(() => {
      this.exited = true;
      for (const wake of this.waiting) wake();
      if (!this.stopping) log.error("web thread exited", { thread: data.thread });
    });
  }

  /** Until a message of `type` has come (true), or the thread failed, exited or time ran out (a CliError). */
  private async until(type: WebThreadMessage["type"], deadline: number): Promise<void> {
    for (;;) {
      if (this.received.some((m) => m.type === type)) return;
      const failure = this.received.find((m) => m.type === "failed");
      if (failure?.type === "failed") throw new CliError(failure.message, failure.exitCode);
      if (this.exited) throw new CliError(`web thread ${this.data.thread} exited while starting`);
      if (Date.now() >= deadline) throw new CliError(`web thread ${this.data.thread} did not start in time`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiting.delete(wake);
          resolve();
        };
        const timer = Number.isFinite(deadline) ? setTimeout(wake, Math.max(deadline - Date.now(), 0)) : undefined;
        this.waiting.add(wake);
      });
    }
  }

  /** Wait until booted, then listen on the main thread's port. */
  async serve(bind: string, port: number, deadline: number): Promise<void> {
    await this.until("ready", deadline);
    this.worker.postMessage({ type: "listen", bind, port } satisfies WebThreadCommand);
    await this.until("listening", deadline);
  }

  /** Ask the thread to stop (it drains its requests and closes its pools), then end it. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.worker.postMessage({ type: "stop" } satisfies WebThreadCommand);
    // No deadline of its own: runUntilSignal bounds every step, and the process exits after it.
    await this.until("stopped", Number.POSITIVE_INFINITY).catch(() => {});
    await this.terminate();
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    if (!this.exited) await this.worker.terminate();
  }
}

export interface WebPortOptions {
  role: "web" | "all";
  bind: string;
  port: number;
  /** `woolly all`: the main thread's hub; the streaming API is mounted on the web port of every thread. */
  hub?: StreamingHub;
}

/**
 * Serve the web port: the main thread listens first (a port taken fails here, with today's message), then
 * the extra threads start and, once booted, listen on the port it got. They start only now so that they
 * do not compete for the CPU with the main thread's start-up: /health answers as early as with one thread
 * (cold start), and the others join within about a second. If a thread fails, all are ended and its
 * error is thrown (the same one-line CliError). Returns the stop steps: extra threads, then the main
 * thread's server.
 */
/**
 * Without WEB_CONCURRENCY: `woolly web` serves with one thread per CPU (as Puma sizes its workers), `woolly
 * all` with one — the laptop mode keeps its idle memory small (each thread is a Postgres pool, Redis clients
 * and a JS heap, ~35 MiB), and on a 2-core box shared with Postgres a second thread bought ~7 % throughput at
 * a worse p99 (docs/benchmarks.md, "Web threads").
 */
export function defaultWebThreads(role: string): number {
  return role === "all" ? 1 : Math.max(1, navigator.hardwareConcurrency || 1);
}

export async function serveWebPort(context: AppContext, options: WebPortOptions): Promise<StopStep[]> {
  const { config } = context;
  const count = config.webConcurrency ?? defaultWebThreads(options.role);
  // With several threads every log line says which one wrote it (the main thread is 0).
  if (count > 1) configureLog(config.logLevel, { role: options.role, pid: process.pid, thread: 0 });
  const server = listen(webPortApp(context, options.hub), "web", options.bind, options.port, count > 1 ? { reusePort: true } : {});
  const signals = holdSignals();
  const threads: WebThread[] = [];
  for (let i = 1; i < count; i++) threads.push(new WebThread({ role: options.role, thread: i, streaming: options.hub !== undefined }));
  const endAll = () => Promise.all(threads.map((t) => t.terminate().catch(() => {})));
  // Each thread's start-up is bounded by its own Postgres and Redis deadlines; this only guards against a hang.
  const deadline = Date.now() + config.db.connectTimeoutSeconds * 1000 + 30_000;
  const results = await Promise.allSettled(threads.map((t) => t.serve(options.bind, server.port, deadline)));
  const held = signals.release();
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) {
    await endAll();
    await server.stop();
    throw failure.reason;
  }
  log.info("web threads", { threads: count, port: server.port, db_connections: count * config.db.pool });
  // setImmediate: after the role's synchronous continuation has installed runUntilSignal's handler.
  if (held) setImmediate(() => process.kill(process.pid, held));
  if (threads.length === 0) return [server];
  return [{ name: "web threads", stop: () => Promise.all(threads.map((t) => t.stop())) }, server];
}

/**
 * The main thread already answers on the port while the extra threads finish starting, but the
 * role installs its SIGTERM handling (runUntilSignal) only once this returns: a SIGTERM in between would
 * kill the process without a clean stop. So a signal that comes meanwhile is held, and raised again just
 * after start-up, when the role's handler is in place (a second one exits at once, as in lifecycle.ts).
 */
function holdSignals(): { release(): NodeJS.Signals | undefined } {
  let held: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (held) process.exit(1);
    held = signal;
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    release() {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      return held;
    },
  };
}
