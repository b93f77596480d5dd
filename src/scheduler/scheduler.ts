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

/**
 * Fire every recurring job that is due in this period and not yet fired by any scheduler. Returns fired names.
 * `settled` (job name → the last period this scheduler already raced for, won or lost) spares the Redis
 * command for a period that is decided: every period is one SET per scheduler instead of one per second —
 * ten jobs asked Redis 36,000 times an hour for nothing, each a socket write that an idle laptop or a busy
 * inbox pays for.
 */
export async function tick(context: AppContext, now = Date.now(), recurring = RECURRING, settled = new Map<string, number>()): Promise<string[]> {
  const fired: string[] = [];
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  for (const item of recurring) {
    const period = periodOf(item, now);
    if (settled.get(item.name) === period) continue;
    const lockKey = `${prefix}woolly:scheduler:${item.name}:${period}`;
    const won = await context.redis.set(lockKey, String(now), "PX", item.everyMs * 2, "NX");
    settled.set(item.name, period);
    if (won !== "OK") continue;
    await context.queues.enqueue(item.job, item.payload(), { jobId: `${item.name}-${period}` });
    fired.push(item.name);
    log.info("scheduled job fired", { job: item.name, period });
  }
  return fired;
}

export function startScheduler(context: AppContext, intervalMs = 1000): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const settled = new Map<string, number>();
  const timer = setInterval(() => {
    running = tick(context, Date.now(), RECURRING, settled).catch((error) => log.warn("scheduler tick failed", { error: String(error?.message ?? error) }));
  }, intervalMs);
  running = tick(context, Date.now(), RECURRING, settled).catch(() => {});
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
