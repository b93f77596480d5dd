import { buildWebApp } from "../../api/app";
import { intFlag, type Command } from "../command";
import { boot } from "../boot";
import { runUntilSignal } from "../lifecycle";
import { listen } from "./serve";

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
    const server = listen(buildWebApp(booted.context), "web", (values.bind as string) ?? config.bind, port ?? config.port);
    return runUntilSignal([server, { name: "connections", stop: booted.close }], config.shutdownTimeoutMs);
  },
};
