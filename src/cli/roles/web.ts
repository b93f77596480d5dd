import { intFlag, type Command } from "../command";
import { boot } from "../boot";
import { runUntilSignal } from "../lifecycle";
import { serveWebPort } from "./web-threads";

export const webCommand: Command = {
  name: "web",
  summary: "Serve the HTTP API, OAuth, ActivityPub endpoints and pages",
  synopsis: "[--port N] [--bind ADDRESS]",
  options: { port: { type: "string" }, bind: { type: "string" } },
  optionHelp: { port: "port to listen on (default PORT or 3000)", bind: "address to bind (default BIND or 127.0.0.1)" },
  async run({ values }) {
    const port = intFlag(values.port, "port", 0, 65535);
    const booted = await boot("web", "require");
    const { config } = booted.context;
    // WEB_CONCURRENCY threads serve the port (cli/roles/web-threads.ts).
    const web = await serveWebPort(booted.context, { role: "web", bind: (values.bind as string) ?? config.bind, port: port ?? config.port });
    return runUntilSignal([...web, { name: "connections", stop: booted.close }], config.shutdownTimeoutMs);
  },
};
