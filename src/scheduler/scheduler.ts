/**
 * The scheduler loop: every second, for each recurring job whose period has rolled over, try to take the
 * period's lock in Redis; whoever wins enqueues the job on the scheduler queue.
 */
import type { AppContext } from "../infra/context";
import { log } from "../infra/log";
import { RECURRING, type Recurring } from "./recurring";

export function periodOf(recurring: Recurring, now: number): number {
  return Math.floor(now / recurring.everyMs);
}

/** Fire every recurring job that is due in this period and not yet fired by any scheduler. Returns fired names. */
export async function tick(context: AppContext, now = Date.now(), recurring = RECURRING): Promise<string[]> {
  const fired: string[] = [];
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  for (const item of recurring) {
    const period = periodOf(item, now);
    const lockKey = `${prefix}woolly:scheduler:${item.name}:${period}`;
    const won = await context.redis.set(lockKey, String(now), "PX", item.everyMs * 2, "NX");
    if (won !== "OK") continue;
    await context.queues.enqueue(item.job, item.payload(), { jobId: `${item.name}-${period}` });
    fired.push(item.name);
    log.info("scheduled job fired", { job: item.name, period });
  }
  return fired;
}

export function startScheduler(context: AppContext, intervalMs = 1000): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = tick(context).catch((error) => log.warn("scheduler tick failed", { error: String(error?.message ?? error) }));
  }, intervalMs);
  running = tick(context).catch(() => {});
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
