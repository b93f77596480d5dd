/**
 * `notifications_merged` on the user stream: accepting a notification request merges the sender's held
 * notifications into the main list, and open streams hear it (Mastodon's frame, payload "1") so clients
 * reload. Real workers deliver the mention; the streaming role's app runs on loopback.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { homeChannel } from "../../src/features/streaming/channels";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { buildStreamingApp, createStreamingHub } from "../../src/streaming/app";
import type { StreamingHub } from "../../src/streaming/hub";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let hub: StreamingHub;
let streaming: ReturnType<typeof buildStreamingApp>;
const call = inProcessApi(() => app);

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  hub = createStreamingHub(context);
  streaming = buildStreamingApp(context, hub).listen({ hostname: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await hub?.close();
  streaming?.server?.stop(true);
  await workers?.close(5000);
  await context?.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

test("accepting a notification request sends notifications_merged to the user stream", async () => {
  const suffix = Date.now().toString(36);
  const reader = await makeTestUser(context, `snm_reader_${suffix}`, { scopes: "read write" });
  const stranger = await makeTestUser(context, `snm_stranger_${suffix}`, { scopes: "read write" });
  expect((await call("PATCH", "/api/v2/notifications/policy", { token: reader.token!, json: { for_not_following: "filter" } })).status).toBe(200);
  const mention = await call("POST", "/api/v1/statuses", { token: stranger.token!, json: { status: `@${reader.account.username} hello`, visibility: "public" } });
  expect(mention.status).toBe(200);
  const request = await until("a notification request", async () => {
    const list = await call("GET", "/api/v1/notifications/requests", { token: reader.token! });
    return (list.json as { id: string }[])[0];
  });

  const frames: { stream: string[]; event: string; payload?: string }[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${streaming.server!.port}/api/v1/streaming?access_token=${reader.token}&stream=user`);
  ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
  });
  await until("the user stream subscription", () => hub.subscribers(homeChannel(context.config.redis.namespace, reader.account.id)) > 0);
  await hub.settled();

  expect((await call("POST", `/api/v1/notifications/requests/${request.id}/accept`, { token: reader.token! })).status).toBe(200);
  const merged = await until("notifications_merged", () => frames.find((f) => f.event === "notifications_merged"));
  expect(merged).toMatchObject({ stream: ["user"], payload: "1" });
  const notifications = await call("GET", "/api/v1/notifications", { token: reader.token! });
  expect((notifications.json as { type: string }[]).some((n) => n.type === "mention")).toBe(true);
  ws.close();
});
