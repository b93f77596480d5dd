import { buildStreamingApp, createStreamingHub } from "../../streaming/app";
import { intFlag, type Command } from "../command";
import { boot } from "../boot";
import { runUntilSignal } from "../lifecycle";
import { listen } from "./serve";
import { startMetricsListener } from "./metrics-listener";

export const streamingCommand: Command = {
  name: "streaming",
  summary: "Serve the streaming API (WebSocket and SSE)",
  synopsis: "[--port N] [--bind ADDRESS]",
  options: { port: { type: "string" }, bind: { type: "string" } },
  optionHelp: { port: "port to listen on (default STREAMING_PORT or 4000)", bind: "address to bind (default BIND or 127.0.0.1)" },
  async run({ values }) {
    const port = intFlag(values.port, "port", 0, 65535);
    const booted = await boot("streaming", "require");
    const { config } = booted.context;
    const hub = createStreamingHub(booted.context);
    const server = listen(buildStreamingApp(booted.context, hub), "streaming", (values.bind as string) ?? config.bind, port ?? config.streamingPort);
    // Sockets first (close 1001, clients reconnect elsewhere), so the server's stop has no stream to wait for.
    return runUntilSignal([{ name: "streaming clients", stop: () => hub.close() }, server, ...startMetricsListener(booted.context, "streaming"), { name: "connections", stop: booted.close }], config.shutdownTimeoutMs);
  },
};
