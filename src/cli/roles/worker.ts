import { jobRegistry } from "../../jobs";
import { QUEUE_NAMES, parseQueueList, type QueueName } from "../../infra/queues/names";
import { startWorkers } from "../../infra/queues/worker";
import { log } from "../../infra/log";
import { UsageError, intFlag, type Command } from "../command";
import { boot } from "../boot";
import { runUntilSignal } from "../lifecycle";
import { startMetricsListener } from "./metrics-listener";

export const workerCommand: Command = {
  name: "worker",
  summary: "Run queue workers (Mastodon's Sidekiq role)",
  synopsis: "[--queues default,push,pull,ingress,mailers,scheduler] [--concurrency N]",
  options: { queues: { type: "string" }, concurrency: { type: "string" } },
  optionHelp: {
    queues: `comma-separated queues to consume (default: all of ${QUEUE_NAMES.join(",")})`,
    concurrency: "jobs processed at once per queue (default WORKER_CONCURRENCY or 5; push and pull run 10x)",
  },
  async run({ values }) {
    let queues: QueueName[];
    try {
      queues = values.queues === undefined ? [...QUEUE_NAMES] : parseQueueList(values.queues as string);
    } catch (error) {
      throw new UsageError((error as Error).message, "");
    }
    const concurrency = intFlag(values.concurrency, "concurrency", 1, 1000);
    const booted = await boot("worker", "require");
    const { config } = booted.context;
    const running = startWorkers({
      queues,
      concurrency: concurrency ?? config.worker.concurrency,
      registry: jobRegistry,
      context: booted.context,
      connection: booted.bullConnection,
      prefix: booted.bullPrefix,
    });
    log.info("worker started", { queues, concurrency: concurrency ?? config.worker.concurrency });
    return runUntilSignal(
      [
        { name: "workers", stop: () => running.close(Math.max(config.shutdownTimeoutMs - 2000, 1000)) },
        ...startMetricsListener(booted.context, "worker"),
        { name: "connections", stop: booted.close },
      ],
      config.shutdownTimeoutMs,
    );
  },
};
