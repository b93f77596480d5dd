/**
 * Graceful shutdown for every role. On SIGTERM or SIGINT: run the stop steps in order (stop accepting
 * requests and jobs first, then finish in-flight work, then close pools), all within SHUTDOWN_TIMEOUT, and
 * exit 0. A second signal while stopping exits at once with 1 (the impatient Ctrl-C).
 */
import { log } from "../infra/log";

export type StopStep = { name: string; stop: () => Promise<unknown> };

export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      process.once("SIGTERM", () => process.exit(1));
      process.once("SIGINT", () => process.exit(1));
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

export async function runUntilSignal(steps: StopStep[], timeoutMs: number): Promise<number> {
  const signal = await waitForSignal();
  log.info("shutting down", { signal, timeout_ms: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  for (const step of steps) {
    const left = Math.max(deadline - Date.now(), 100);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      step.stop().then(
        () => true,
        (error) => {
          log.warn("shutdown step failed", { step: step.name, error: String(error?.message ?? error) });
          return true;
        },
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), left))),
    ]);
    clearTimeout(timer);
    if (!finished) log.warn("shutdown step ran past the deadline", { step: step.name });
  }
  log.info("stopped");
  return 0;
}
