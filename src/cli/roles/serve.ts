/** Listening helpers shared by the roles that serve HTTP. */
import type { Elysia } from "elysia";
import { log } from "../../infra/log";
import { CliError } from "../command";
import type { StopStep } from "../lifecycle";

export type Listening = StopStep & { port: number };

/**
 * `reusePort` (SO_REUSEPORT) lets several web threads of one process listen on the same port, the kernel
 * spreading new connections across them (cli/roles/web-threads.ts). Left unset, Elysia's default applies.
 */
export function listen(
  app: Elysia<any, any, any, any, any, any, any>,
  name: string,
  hostname: string,
  port: number,
  options: { reusePort?: boolean; logFields?: Record<string, unknown> } = {},
): Listening {
  try {
    const shared = options.reusePort === undefined ? {} : { reusePort: options.reusePort };
    app.listen({ hostname, port, maxRequestBodySize: 110 * 1024 * 1024, ...shared });
  } catch (error) {
    throw new CliError(`${name}: cannot listen on ${hostname}:${port}: ${(error as Error).message.split("\n")[0]}`);
  }
  const bound = app.server?.port ?? port;
  log.info("listening", { server: name, url: `http://${hostname}:${bound}`, ...options.logFields });
  // stop(false): stop accepting connections, let in-flight requests finish.
  return { name: `${name} server`, port: bound, stop: async () => app.server?.stop(false) };
}
