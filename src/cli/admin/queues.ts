import { probeJobOn } from "../../features/queues/jobs";
import { QueueClient, bullPrefix } from "../../infra/queues/client";
import { QUEUE_NAMES, parseQueueList, type QueueName } from "../../infra/queues/names";
import { CliError, UsageError, intFlag, type Group } from "../command";
import { openDatabase, openRedis, readConfig, checkMigrations } from "../boot";

async function withQueues<T>(fn: (client: QueueClient) => Promise<T>): Promise<T> {
  const config = readConfig("admin");
  const redis = await openRedis(config, "app", "woolly-admin");
  const client = new QueueClient(redis, bullPrefix(config.redis.namespace));
  try {
    return await fn(client);
  } finally {
    await client.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

function queueArgs(positionals: string[]): QueueName[] {
  if (positionals.length === 0) return [...QUEUE_NAMES];
  try {
    return parseQueueList(positionals.join(","));
  } catch (error) {
    throw new UsageError((error as Error).message, "");
  }
}

export interface QueueStats {
  queue: QueueName;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  /** Age in seconds of the oldest job still waiting: how far behind this queue is. */
  oldestWaitingSeconds: number | null;
}

export async function queueStats(client: QueueClient, names: QueueName[]): Promise<QueueStats[]> {
  return Promise.all(
    names.map(async (name) => {
      const queue = client.queue(name);
      const counts = await queue.getJobCounts("wait", "prioritized", "active", "delayed", "failed", "completed");
      // asc = true: index 0 is the job that has waited longest.
      const [oldest] = await queue.getJobs(["wait"], 0, 0, true);
      return {
        queue: name,
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
        oldestWaitingSeconds: oldest ? Math.max(0, Math.round((Date.now() - oldest.timestamp) / 1000)) : null,
      };
    }),
  );
}

/** Completed and failed jobs per minute for one queue, oldest minute first; the last entry is the current minute. */
export interface QueueRates {
  queue: QueueName;
  completed: number[];
  failed: number[];
}

/**
 * Per-minute counts from BullMQ's own metrics (workers run with `metrics` on, infra/queues/worker.ts). BullMQ
 * keeps a running count and pushes one point per elapsed minute only when the next job finishes, so the minute
 * of the last push (prevTS) still holds `count - prevCount`, list entry i is the minute i+1 before it, and
 * minutes after it (nothing finished) are zero.
 */
export async function queueRates(client: QueueClient, names: QueueName[], minutes = 60, now = Date.now()): Promise<QueueRates[]> {
  const nowMinute = Math.floor(now / 60_000);
  const series = async (queue: QueueName, type: "completed" | "failed") => {
    const metrics = await client.queue(queue).getMetrics(type, 0, minutes);
    const out = new Array<number>(minutes).fill(0);
    if (!metrics.meta.prevTS) return out;
    const lastMinute = Math.floor(metrics.meta.prevTS / 60_000);
    const put = (minute: number, value: number) => {
      const index = minutes - 1 - (nowMinute - minute);
      if (index >= 0 && index < minutes) out[index] = value;
    };
    put(lastMinute, Math.max(0, metrics.meta.count - metrics.meta.prevCount));
    metrics.data.forEach((value, i) => put(lastMinute - 1 - i, value));
    return out;
  };
  return Promise.all(names.map(async (queue) => ({ queue, completed: await series(queue, "completed"), failed: await series(queue, "failed") })));
}

/** A one-line text sparkline (▁▂▃▄▅▆▇█) scaled to the series' own maximum; a blank-looking line when all zero. */
export function sparkline(values: number[]): string {
  const bars = "▁▂▃▄▅▆▇█";
  const max = Math.max(0, ...values);
  return values.map((n) => (max === 0 ? bars[0] : bars[Math.min(7, Math.round((n / max) * 7))])).join("");
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export const queuesGroup: Group = {
  name: "queues",
  summary: "Inspect and manage the job queues",
  commands: [
    {
      name: "stats",
      summary: "Depth, active, delayed and failed jobs per queue, and jobs done/failed per minute over the last hour",
      synopsis: "[QUEUE ...] [--json]",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      positionals: { min: 0, max: QUEUE_NAMES.length },
      async run({ values, positionals }) {
        const names = queueArgs(positionals);
        const [stats, rates] = await withQueues((client) => Promise.all([queueStats(client, names), queueRates(client, names)]));
        if (values.json) {
          // Per-minute series for the last hour, oldest first, next to each queue's counts.
          console.log(JSON.stringify(stats.map((s, i) => ({ ...s, perMinute: { completed: rates[i]!.completed, failed: rates[i]!.failed } })), null, 2));
          return 0;
        }
        const header = ["queue", "waiting", "active", "delayed", "failed", "completed", "oldest waiting", "done/1h", "failed/1h", "done per minute (last hour)"];
        const rows = stats.map((s, i) =>
          [s.queue, s.waiting, s.active, s.delayed, s.failed, s.completed, s.oldestWaitingSeconds === null ? "-" : `${s.oldestWaitingSeconds}s`, sum(rates[i]!.completed), sum(rates[i]!.failed), sparkline(rates[i]!.completed)].map(String),
        );
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
        return 0;
      },
    },
    {
      name: "retry",
      summary: "Move failed jobs back to waiting so workers try them again",
      synopsis: "[QUEUE ...]",
      positionals: { min: 0, max: QUEUE_NAMES.length },
      async run({ positionals }) {
        const names = queueArgs(positionals);
        await withQueues(async (client) => {
          for (const name of names) {
            const queue = client.queue(name);
            const failed = await queue.getFailedCount();
            if (failed > 0) await queue.retryJobs({ state: "failed", count: 1000 });
            console.log(`${name}: ${failed} failed job(s) retried`);
          }
        });
        return 0;
      },
    },
    {
      name: "clear",
      summary: "Delete jobs in one state (default: failed) from queues; waiting/delayed jobs are lost work, so they need --yes",
      synopsis: "[QUEUE ...] [--state failed|waiting|delayed|completed] [--yes]",
      options: { state: { type: "string" }, yes: { type: "boolean" } },
      optionHelp: { state: "which jobs to delete (default failed)", yes: "confirm deleting waiting or delayed jobs" },
      positionals: { min: 0, max: QUEUE_NAMES.length },
      async run({ values, positionals }) {
        const names = queueArgs(positionals);
        const state = (values.state ?? "failed") as string;
        const bullState = ({ failed: "failed", waiting: "wait", delayed: "delayed", completed: "completed" } as const)[state as "failed"];
        if (!bullState) throw new UsageError("--state must be one of failed, waiting, delayed, completed", "");
        if ((state === "waiting" || state === "delayed") && values.yes !== true) throw new UsageError(`clearing ${state} jobs drops work nobody has done yet; add --yes`, "");
        await withQueues(async (client) => {
          for (const name of names) {
            const queue = client.queue(name);
            let removed = 0;
            // clean() takes a limit: loop in bounded batches so one Redis call never holds a huge list.
            for (;;) {
              const ids = await queue.clean(0, 1000, bullState);
              removed += ids.length;
              if (ids.length < 1000) break;
            }
            console.log(`${name}: ${removed} ${state} job(s) deleted`);
          }
        });
        return 0;
      },
    },
    {
      name: "probe",
      summary: "Send a job through a queue and time its round trip (needs a worker on that queue)",
      synopsis: "[--queue NAME] [--timeout SECONDS]",
      options: { queue: { type: "string" }, timeout: { type: "string" } },
      optionHelp: { queue: "queue to measure (default: default)", timeout: "give up after this many seconds (default 30)" },
      async run({ values }) {
        const [queue] = queueArgs(values.queue ? [values.queue as string] : ["default"]);
        const timeoutMs = (intFlag(values.timeout, "timeout", 1, 3600) ?? 30) * 1000;
        const config = readConfig("admin");
        const sql = await openDatabase(config, { max: 1, applicationName: "woolly-admin" });
        try {
          await checkMigrations(sql, "require");
          const marker = `probe-${crypto.randomUUID()}`;
          const started = Date.now();
          await withQueues((client) => client.enqueue(probeJobOn(queue!), { marker, queue: queue!, enqueuedAt: new Date(started).toISOString() }));
          while (Date.now() - started < timeoutMs) {
            const [row] = await sql<{ ran_at: Date }[]>`select ran_at from queue_probes where marker = ${marker}`;
            if (row) {
              console.log(`${queue}: round trip ${Date.now() - started} ms (picked up after ${row.ran_at.getTime() - started} ms)`);
              return 0;
            }
            await Bun.sleep(50);
          }
          throw new CliError(`${queue}: no worker ran the probe within ${timeoutMs / 1000}s (is a worker consuming this queue?)`);
        } finally {
          await sql.end({ timeout: 5 });
        }
      },
    },
  ],
};
