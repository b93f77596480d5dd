/**
 * The job registry: one place that maps a job name to its payload schema, queue, retry policy and handler.
 * Features declare their jobs with defineJob() in their own jobs.ts; src/jobs.ts lists them all.
 * Handlers must be safe to run twice (BullMQ delivers at least once: a worker killed mid-job is retried).
 */
import * as v from "valibot";
import type { AppContext } from "../context";
import type { QueueName } from "./names";

export interface JobContext extends AppContext {
  /** BullMQ job id and attempt number, for logs and idempotency keys. */
  jobId: string;
  attempt: number;
}

export interface JobDefinition<S extends v.GenericSchema = v.GenericSchema> {
  name: string;
  queue: QueueName;
  schema: S;
  /** Total tries including the first; a job that fails them all lands in the failed set with its error. */
  attempts: number;
  /** First retry delay; each next retry doubles it (exponential backoff). */
  backoffMs: number;
  /** The payload carries a secret (e.g. a link with a token): drop the job record as soon as it completes. */
  sensitive?: boolean;
  handler: (payload: v.InferOutput<S>, ctx: JobContext) => Promise<void>;
}

export function defineJob<S extends v.GenericSchema>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

export class JobRegistry {
  private readonly byName = new Map<string, JobDefinition>();

  constructor(definitions: JobDefinition<any>[]) {
    for (const definition of definitions) {
      if (this.byName.has(definition.name)) throw new Error(`job ${definition.name} is defined twice`);
      this.byName.set(definition.name, definition as JobDefinition);
    }
  }

  get(name: string): JobDefinition | undefined {
    return this.byName.get(name);
  }

  all(): JobDefinition[] {
    return [...this.byName.values()];
  }
}
