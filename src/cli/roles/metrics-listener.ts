/**
 * The worker, scheduler and streaming roles serve no /metrics of their own (the worker has no HTTP server
 * at all), so with METRICS_PORT set each starts this metrics-only listener on BIND:METRICS_PORT. Access
 * rules are the web route's (METRICS_TOKEN, else loopback only). Returns no step when METRICS_PORT is 0.
 */
import { handleScrape } from "../../api/metrics";
import type { AppContext } from "../../infra/context";
import { log } from "../../infra/log";
import { CliError } from "../command";
import type { StopStep } from "../lifecycle";

export function startMetricsListener(context: AppContext, role: string): StopStep[] {
  const { port } = context.config.metrics;
  if (port === 0) return [];
  const hostname = context.config.bind;
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname,
      port,
      async fetch(request, srv) {
        if (new URL(request.url).pathname !== "/metrics") return Response.json({ error: "Record not found" }, { status: 404 });
        const set: { status?: number | string; headers: Record<string, string | number> } = { headers: {} };
        const body = await handleScrape(context, request, srv.requestIP(request)?.address, set);
        const headers = Object.fromEntries(Object.entries(set.headers).map(([k, v]) => [k, String(v)]));
        if (typeof body === "string") return new Response(body, { status: 200, headers });
        return Response.json(body, { status: Number(set.status ?? 200), headers });
      },
    });
  } catch (error) {
    throw new CliError(`metrics: cannot listen on ${hostname}:${port}: ${(error as Error).message.split("\n")[0]}`);
  }
  log.info("listening", { server: `${role} metrics`, url: `http://${hostname}:${server.port}/metrics` });
  return [{ name: "metrics listener", stop: async () => server.stop(true) }];
}
