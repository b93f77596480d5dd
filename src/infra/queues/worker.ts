/**
 * Consuming queues: one BullMQ Worker per queue this process was given, dispatching by job name through the
 * registry. Closing waits for in-flight jobs up to a deadline; anything still running then is left to
 * BullMQ's stalled-job check, which hands it to another worker (at-least-once, never lost).
 */
import { MetricsTime, UnrecoverableError, Worker } from "bullmq";
import * as v from "valibot";
import type { AppContext } from "../context";
import { withTimeout } from "../db";
import { log } from "../log";
import { recordJob } from "../metrics";
import type { Redis } from "../redis";
import type { QueueName } from "./names";
import type { JobRegistry } from "./registry";

export interface RunningWorkers {
  close(timeoutMs: number): Promise<void>;
  workers: Worker[];
}

export function startWorkers(options: {
  queues: QueueName[];
  concurrency: number;
  registry: JobRegistry;
  context: AppContext;
  connection: Redis;
  prefix: string;
}): RunningWorkers {
  const { registry, context } = options;
  const workers = options.queues.map((queueName) => {
    const worker = new Worker(
      queueName,
      async (job) => {
        const definition = registry.get(job.name);
        if (!definition) throw new UnrecoverableError(`no handler for job "${job.name}"`);
        const parsed = v.safeParse(definition.schema, job.data);
        if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${job.name}: ${parsed.issues[0]?.message}`);
        const started = performance.now();
        try {
          await definition.handler(parsed.output, { ...context, jobId: job.id ?? "", attempt: job.attemptsMade + 1 });
        } catch (error) {
          recordJob(queueName, job.name, "failed", (performance.now() - started) / 1000);
          throw error;
        }
        recordJob(queueName, job.name, "completed", (performance.now() - started) / 1000);
        log.debug("job done", { queue: queueName, job: job.name, id: job.id, ms: Math.round(performance.now() - started) });
      },
      {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: concurrencyFor(queueName, options.concurrency),
        autorun: true,
        // Per-minute completed/failed counts for the admin queue dashboard (Queue.getMetrics); a week of points.
        metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      },
    );
    worker.on("failed", (job, error) => {
      log.warn("job failed", { queue: queueName, job: job?.name, id: job?.id, attempt: job?.attemptsMade, error: error.message });
    });
    worker.on("error", (error) => log.warn("worker error", { queue: queueName, error: error.message }));
    return worker;
  });

  return {
    workers,
    async close(timeoutMs) {
      try {
        await withTimeout(Promise.all(workers.map((w) => w.close())), timeoutMs, "workers did not finish in time");
      } catch {
        log.warn("shutdown deadline reached; unfinished jobs will be retried by another worker");
        await Promise.all(workers.map((w) => w.close(true).catch(() => {})));
      }
    },
  };
}

/**
 * push and pull spend their time waiting on other servers (a hanging inbox holds a slot for its whole
 * timeout), so they run NETWORK_QUEUE_FACTOR times the configured concurrency: with 5, a handful of dead
 * instances would otherwise stall delivery to every live one (bench/delivery-fanout.ts, docs/benchmarks.md).
 * CPU-bound queues keep the configured number.
 */
export const NETWORK_QUEUE_FACTOR = 10;
export function concurrencyFor(queueName: string, configured: number): number {
  return queueName === "push" || queueName === "pull" ? Math.min(configured * NETWORK_QUEUE_FACTOR, 500) : configured;
}
