/** The web role's HTTP behaviour: health, errors, request ids, swagger, and riding out Postgres/Redis outages. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import * as v from "valibot";
import { buildWebApp, baseApp } from "../../src/api/app";
import { openApiDetail, readInput } from "../../src/api/validate";
import { docsRoutes } from "../../src/api/docs";
import { freePort, spawnWoolly, waitFor, waitForHealthy } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { TcpProxy } from "../helpers/tcp-proxy";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
});
afterAll(() => context.close());

const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${path}`, { headers }));

describe("web app", () => {
  test("/health reports Postgres and Redis", async () => {
    const response = await get("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", postgres: "ok", redis: "ok" });
  });

  test("unknown /api paths are 404 JSON in Mastodon's shape", async () => {
    const response = await get("/api/v1/does/not/exist");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.json()).toEqual({ error: "Record not found" });
  });

  test("every response carries a request id; a sane incoming one is kept, a hostile one replaced", async () => {
    expect((await get("/health", { "x-request-id": "abc-123" })).headers.get("x-request-id")).toBe("abc-123");
    const replaced = (await get("/health", { "x-request-id": "<script>" + "x".repeat(100) })).headers.get("x-request-id");
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("/swagger works offline and documents routes from their valibot schemas", async () => {
    const schemas = {
      query: v.object({ limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/))), local: v.optional(v.picklist(["true", "false"])) }),
      body: v.object({ status: v.pipe(v.string(), v.maxLength(500)) }),
    };
    const probe = new Elysia()
      .use(baseApp(context, "probe-base"))
      .post("/api/v1/probe", async ({ request }) => (await readInput(schemas, request)).body, { detail: openApiDetail(schemas) })
      .use(docsRoutes());
    const page = await probe.handle(new Request("http://localhost/swagger"));
    const html = await page.text();
    expect(html).toContain("/swagger/assets/api-reference.js");
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)\./);
    const asset = await probe.handle(new Request("http://localhost/swagger/assets/api-reference.js"));
    expect(asset.status).toBe(200);
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const doc = (await (await probe.handle(new Request("http://localhost/swagger/json"))).json()) as any;
    const operation = doc.paths["/api/v1/probe"].post;
    expect(operation.parameters.map((p: any) => p.name).sort()).toEqual(["limit", "local"]);
    expect(operation.requestBody.content["application/json"].schema.properties.status.maxLength).toBe(500);

    // and the same schema validates: bad input is a Mastodon-shaped 4xx, never a 500
    const post = (body: string, type = "application/json") =>
      probe.handle(new Request("http://localhost/api/v1/probe", { method: "POST", headers: { "content-type": type }, body }));
    expect((await post(JSON.stringify({ status: "hi" }))).status).toBe(200);
    const long = await post(JSON.stringify({ status: "x".repeat(501) }));
    expect(long.status).toBe(422);
    expect(typeof ((await long.json()) as any).error).toBe("string");
    expect((await post("{broken")).status).toBe(400);
    expect((await post(JSON.stringify({}))).status).toBe(400);
    const nul = await post(JSON.stringify({ status: "a\u0000b\ud800" }));
    expect(await nul.json()).toEqual({ status: "ab\ufffd" });
  });
});

describe("outages", () => {
  test("Postgres or Redis going away: /health says which (503), and the process recovers by itself", async () => {
    const db = new URL(process.env.DATABASE_URL!);
    const redis = new URL(process.env.REDIS_URL!);
    const pgProxy = new TcpProxy(db.hostname, Number(db.port || 5432));
    const redisProxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
    await pgProxy.start();
    await redisProxy.start();
    db.hostname = "127.0.0.1";
    db.port = String(pgProxy.port);
    redis.hostname = "127.0.0.1";
    redis.port = String(redisProxy.port);
    const port = await freePort();
    const web = spawnWoolly(["web", "--port", String(port)], { DATABASE_URL: db.toString(), REDIS_URL: redis.toString(), LOG_LEVEL: "error" });
    const health = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      return { status: response.status, body: (await response.json()) as Record<string, string> };
    };
    try {
      await waitForHealthy(port);

      redisProxy.stop();
      const redisDown = await waitFor(async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      });
      expect(redisDown.body.redis).toContain("unreachable");
      expect(redisDown.body.postgres).toBe("ok");
      await redisProxy.start();
      await waitFor(async () => (await health()).status === 200, 15_000);

      pgProxy.stop();
      const pgDown = await waitFor(async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      });
      expect(pgDown.body.postgres).toContain("unreachable");
      expect(pgDown.body.redis).toBe("ok");
      // A request that needs the database fails fast with 503 in Mastodon's shape, not 500 and not a hang.
      const during = await fetch(`http://127.0.0.1:${port}/api/v1/instance`);
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ error: "Service temporarily unavailable" });
      await pgProxy.start();
      await waitFor(async () => (await health()).status === 200, 15_000);
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/instance`)).status).toBe(200);
    } finally {
      web.kill("SIGTERM");
      await web.exited;
      pgProxy.stop();
      redisProxy.stop();
    }
    expect(web.exitCode).toBe(0);
  }, 60_000);
});
