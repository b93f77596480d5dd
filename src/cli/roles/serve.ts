/** Listening helpers shared by the roles that serve HTTP. */
import type { Elysia } from "elysia";
import { log } from "../../infra/log";
import { CliError } from "../command";
import type { StopStep } from "../lifecycle";

export function listen(app: Elysia<any, any, any, any, any, any, any>, name: string, hostname: string, port: number): StopStep {
  try {
    app.listen({ hostname, port, maxRequestBodySize: 110 * 1024 * 1024 });
  } catch (error) {
    throw new CliError(`${name}: cannot listen on ${hostname}:${port}: ${(error as Error).message.split("\n")[0]}`);
  }
  log.info("listening", { server: name, url: `http://${hostname}:${app.server?.port ?? port}` });
  // stop(false): stop accepting connections, let in-flight requests finish.
  return { name: `${name} server`, stop: async () => app.server?.stop(false) };
}
