/**
 * Entry point of one extra web thread (a Bun Worker started by cli/roles/web-threads.ts). It is its own
 * JavaScript world: its own AppContext (Postgres pool of DB_POOL, Redis clients, queue client), its own
 * in-process caches (they are kept right by versions and Postgres NOTIFY, exactly as across web processes)
 * and, in `woolly all`, its own streaming hub (one Redis subscriber; presence is shared through Redis).
 * It serves the web port next to the main thread's server with SO_REUSEPORT.
 *
 * Two steps, driven by the main thread: boot (connections, the app) as soon as the thread exists, then
 * listen when told, on the port the main thread got. Migrations are the main thread's business ("ignore").
 *
 * Must stay an entry point of the compiled binary: scripts/build.ts lists it next to src/main.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { configureLog, log } from "../../infra/log";
import { createStreamingHub } from "../../streaming/app";
import type { StreamingHub } from "../../streaming/hub";
import { boot, oneLine, readConfig, type Booted } from "../boot";
import { CliError, EXIT_FAILURE } from "../command";
import { listen, type Listening } from "./serve";
import { webPortApp } from "./web-port";
import type { WebThreadCommand, WebThreadData, WebThreadMessage } from "./web-threads";

const data = workerData as WebThreadData;
const send = (message: WebThreadMessage) => parentPort!.postMessage(message);
const failed = (error: unknown) =>
  send({
    type: "failed",
    message: error instanceof CliError ? error.message : oneLine(error),
    exitCode: error instanceof CliError ? error.exitCode : EXIT_FAILURE,
  });

let booted: Booted | undefined;
let hub: StreamingHub | undefined;
let app: ReturnType<typeof webPortApp> | undefined;
let server: Listening | undefined;

async function start(): Promise<void> {
  try {
    const config = readConfig(data.role);
    configureLog(config.logLevel, { role: data.role, pid: process.pid, thread: data.thread });
    booted = await boot(data.role, "ignore", config);
    hub = data.streaming ? createStreamingHub(booted.context) : undefined;
    app = webPortApp(booted.context, hub);
    send({ type: "ready" });
  } catch (error) {
    await booted?.close().catch(() => {});
    failed(error);
  }
}

/** The main thread's shutdown, on this thread: sockets, then the server (in-flight requests finish), then pools. */
async function stop(): Promise<void> {
  const steps: [string, () => Promise<unknown>][] = [
    ["streaming clients", async () => hub?.close()],
    ["web server", async () => server?.stop()],
    ["connections", async () => booted?.close()],
  ];
  for (const [name, step] of steps) {
    await step().catch((error) => log.warn("shutdown step failed", { step: name, error: oneLine(error) }));
  }
  send({ type: "stopped" });
}

parentPort!.on("message", (command: WebThreadCommand) => {
  if (command.type === "stop") void stop();
  else if (command.type === "listen" && app) {
    try {
      server = listen(app, "web", command.bind, command.port, { reusePort: true });
      send({ type: "listening", port: server.port });
    } catch (error) {
      failed(error);
    }
  }
});

void start();
