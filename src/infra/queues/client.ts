/**
 * Enqueueing. Payloads are validated against the job's schema before they reach Redis, so a bad payload
 * fails at the caller, not hours later in a worker.
 */
import { Queue, type JobsOptions } from "bullmq";
import * as v from "valibot";
import type { Redis } from "../redis";
import type { JobDefinition } from "./registry";
import { QUEUE_NAMES, type QueueName } from "./names";

export function bullPrefix(namespace: string): string {
  return namespace ? `${namespace}:bull` : "bull";
}

export interface EnqueueOptions {
  delayMs?: number;
  /** A stable id makes enqueueing idempotent: BullMQ ignores a second add with the same id while it exists. */
  jobId?: string;
  priority?: number;
  /**
   * Drop the job record as soon as it completes, for high-volume jobs nobody looks back at: keeping the
   * last day's completed records costs a ZADD and a trim in Redis per job.
   */
  forgetWhenDone?: boolean;
}

export class QueueClient {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on("error", () => {}); // connection trouble is reported by /health, not as unhandled errors
      this.queues.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return QUEUE_NAMES.map((name) => this.queue(name));
  }

  async enqueue<S extends v.GenericSchema>(
    job: JobDefinition<S>,
    payload: v.InferInput<S>,
    options: EnqueueOptions = {},
  ): Promise<string> {
    const checked = v.parse(job.schema, payload);
    const jobOptions: JobsOptions = {
      attempts: job.attempts,
      backoff: { type: "exponential", delay: job.backoffMs },
      delay: options.delayMs,
      jobId: options.jobId,
      priority: options.priority,
      removeOnComplete: job.sensitive || options.forgetWhenDone ? true : { age: 24 * 3600, count: 5000 },
      removeOnFail: { age: 14 * 24 * 3600 },
    };
    const added = await this.queue(job.queue).add(job.name, checked, jobOptions);
    return added.id ?? "";
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => {})));
    this.queues.clear();
  }
}
