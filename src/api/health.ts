/**
 * GET /health: is this process able to serve? Checks Postgres and Redis with short deadlines and names the
 * failing part, so a load balancer or `curl` tells the operator what is down.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { pingDb } from "../infra/db";
import { pingRedis } from "../infra/redis";

export async function checkHealth(context: Pick<AppContext, "sql" | "redis">) {
  const [postgres, redis] = await Promise.all([
    pingDb(context.sql).then(
      () => "ok",
      (e: Error) => `unreachable: ${e.message}`,
    ),
    pingRedis(context.redis).then(
      () => "ok",
      (e: Error) => `unreachable: ${e.message}`,
    ),
  ]);
  const ok = postgres === "ok" && redis === "ok";
  return { ok, body: { status: ok ? "ok" : "unavailable", postgres, redis } };
}

export function healthRoutes(context: AppContext) {
  return new Elysia({ name: "health" }).get(
    "/health",
    async ({ set }) => {
      const { ok, body } = await checkHealth(context);
      set.status = ok ? 200 : 503;
      set.headers["cache-control"] = "no-store";
      return body;
    },
    { detail: { summary: "Liveness and dependency check", tags: ["Operations"] } },
  );
}
