import { jobRegistry } from "../../jobs";
import { QUEUE_NAMES } from "../../infra/queues/names";
import { startWorkers } from "../../infra/queues/worker";
import { startScheduler } from "../../scheduler/scheduler";
import { buildStreamingApp, createStreamingHub } from "../../streaming/app";
import { intFlag, type Command } from "../command";
import { boot } from "../boot";
import { runUntilSignal } from "../lifecycle";
import { listen } from "./serve";
import { serveWebPort } from "./web-threads";

export const allCommand: Command = {
  name: "all",
  summary: "Everything in one process: web, streaming, every queue and the scheduler (laptop mode)",
  synopsis: "[--port N] [--streaming-port N] [--bind ADDRESS] [--no-migrate]",
  options: {
    port: { type: "string" },
    "streaming-port": { type: "string" },
    bind: { type: "string" },
    "no-migrate": { type: "boolean" },
  },
  optionHelp: {
    port: "web port (default PORT or 3000); the streaming API is served here too",
    "streaming-port": "separate streaming port (default STREAMING_PORT or 4000; 0 turns it off)",
    bind: "address to bind (default BIND or 127.0.0.1)",
    "no-migrate": "refuse to start with pending migrations instead of applying them",
  },
  async run({ values }) {
    const port = intFlag(values.port, "port", 0, 65535);
    const streamingPort = intFlag(values["streaming-port"], "streaming-port", 0, 65535);
    // The one-process mode migrates by itself: the advisory lock makes that safe even if a second copy starts.
    const booted = await boot("all", values["no-migrate"] ? "require" : "apply");
    const { context } = booted;
    const { config } = context;
    const bind = (values.bind as string) ?? config.bind;

    const workers = startWorkers({
      queues: [...QUEUE_NAMES],
      concurrency: config.worker.concurrency,
      registry: jobRegistry,
      context,
      connection: booted.bullConnection,
      prefix: booted.bullPrefix,
    });
    const scheduler = startScheduler(context);
    // Some clients (Ice Cubes) stream from the API host, so the web port carries the streaming API too.
    // One hub (one Redis subscriber) serves both ports.
    const hub = createStreamingHub(context);
    const effectiveStreamingPort = streamingPort ?? config.streamingPort;
    // The streaming port first: once the web port answers, everything does (the web threads take a moment).
    const streaming = effectiveStreamingPort === 0 ? [] : [listen(buildStreamingApp(context, hub), "streaming", bind, effectiveStreamingPort)];
    // WEB_CONCURRENCY threads serve the web port (cli/roles/web-threads.ts); each extra one has a hub of its own.
    const web = await serveWebPort(context, { role: "all", bind, port: port ?? config.port, hub });
    const steps = [{ name: "streaming clients", stop: () => hub.close() }, ...web, ...streaming];

    return runUntilSignal(
      [
        ...steps,
        { name: "scheduler", stop: scheduler.stop },
        { name: "workers", stop: () => workers.close(Math.max(config.shutdownTimeoutMs - 2000, 1000)) },
        { name: "connections", stop: booted.close },
      ],
      config.shutdownTimeoutMs,
    );
  },
};
