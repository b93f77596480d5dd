/**
 * Streaming upkeep beyond the basics (streaming.test.ts): relation changes (mute, block, domain block and
 * their undos) take effect on streams already open, the Prometheus series of the streaming role, and the
 * "who is listening" record that keeps publishers from writing to user channels nobody reads.
 * A real streaming app, web app and worker, as in streaming.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createStreamingAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { channelName, homeChannel } from "../../src/features/streaming/channels";
import { markOnline, onlineAmong, presenceKey } from "../../src/features/streaming/presence";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { buildStreamingApp, createStreamingHub } from "../../src/streaming/app";
import { StreamingHub } from "../../src/streaming/hub";
import type { StatusEntity } from "../../src/api/entities/status";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";

const METRICS_TOKEN = "st-metrics-token-0123456789abcdef";
let context: TestContext;
let hub: StreamingHub;
let streaming: ReturnType<typeof buildStreamingApp>;
let web: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let base: string;
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const ns = () => context.config.redis.namespace;
const call = inProcessApi(() => web);

beforeAll(async () => {
  context = await testContext({ METRICS_TOKEN, RATE_LIMITS_ENABLED: "false" });
  hub = createStreamingHub(context);
  streaming = buildStreamingApp(context, hub).listen({ hostname: "127.0.0.1", port: 0 });
  base = `127.0.0.1:${streaming.server!.port}`;
  web = buildWebApp(context);
  workers = startWorkers({ queues: ["default"], concurrency: 5, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  for (const name of ["st_reader", "st_author", "st_other", "st_fan", "st_late"]) {
    const { account } = await createLocalAccount(context.sql, context.config, {
      username: name,
      email: `${name}@example.com`,
      password: "correct horse battery",
      confirmed: true,
    });
    ids[name] = account.id;
    tokens[name] = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write follow" })).token;
  }
});

afterAll(async () => {
  await hub.close();
  streaming.server?.stop(true);
  await workers.close(5000);
  await context.close();
});

// ---- helpers ----

function api(who: string, method: string, path: string, body?: unknown) {
  const headers = new Headers({ authorization: `Bearer ${tokens[who]}` });
  if (body !== undefined) headers.set("content-type", "application/json");
  return web.handle(new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
}

async function act(who: string, method: string, path: string, body?: unknown): Promise<void> {
  const response = await api(who, method, path, body);
  expect(response.status).toBe(200);
}

async function post(who: string, status: string): Promise<string> {
  const response = await api(who, "POST", "/api/v1/statuses", { status });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

interface Frame {
  stream?: string[];
  event?: string;
  payload?: string;
}

/** A raw WebSocket reader that records frames and can wait for one. */
async function openReader(who: string, stream: string) {
  const ws = new WebSocket(`ws://${base}/api/v1/streaming?access_token=${tokens[who]}&stream=${stream}`);
  const frames: Frame[] = [];
  ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data)) as Frame));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
  });
  const updates = () => frames.filter((f) => f.event === "update").map((f) => (JSON.parse(f.payload!) as { id: string }).id);
  return {
    frames,
    updates,
    async waitFor(id: string, timeoutMs = 1000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!updates().includes(id)) {
        if (Date.now() > deadline) throw new Error(`update ${id} did not arrive in ${timeoutMs} ms; got ${JSON.stringify(updates())}`);
        await Bun.sleep(5);
      }
    },
    close: () => ws.close(),
  };
}

async function subscribed(...channels: string[]) {
  const deadline = Date.now() + 2000;
  while (!channels.every((c) => hub.subscribers(c) > 0)) {
    if (Date.now() > deadline) throw new Error(`not subscribed to ${channels.join(", ")}`);
    await Bun.sleep(10);
  }
  await hub.settled();
}

/**
 * Post from `author` right after a relation change and check whether `reader` gets it within a second. A
 * control post from an unrelated account, published after it, bounds the wait when it must not arrive.
 */
async function arrives(reader: Awaited<ReturnType<typeof openReader>>, author: string, text: string): Promise<boolean> {
  const id = await post(author, text);
  const control = await post("st_other", `control after ${text}`);
  await reader.waitFor(control);
  // The control is delivered; give a straggler the rest of the second.
  await Bun.sleep(150);
  return reader.updates().includes(id);
}

async function scrape(): Promise<string> {
  const response = await call("GET", "/metrics", { token: METRICS_TOKEN });
  expect(response.status).toBe(200);
  return response.json as string;
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

// ---- tests ----

describe("relation changes reach open streams at once", () => {
  test("mute → the author's next post does not arrive; unmute → it does again", async () => {
    const reader = await openReader("st_reader", "public:local");
    await subscribed(channelName(ns(), "public:local"));
    expect(await arrives(reader, "st_author", "before the mute")).toBe(true);

    await act("st_reader", "POST", `/api/v1/accounts/${ids.st_author}/mute`);
    expect(await arrives(reader, "st_author", "while muted")).toBe(false);

    await act("st_reader", "POST", `/api/v1/accounts/${ids.st_author}/unmute`);
    expect(await arrives(reader, "st_author", "after the unmute")).toBe(true);
    reader.close();
  });

  test("block and unblock, both ways: the blocker's and the blocked reader's streams follow", async () => {
    const reader = await openReader("st_reader", "public:local");
    await subscribed(channelName(ns(), "public:local"));

    await act("st_reader", "POST", `/api/v1/accounts/${ids.st_author}/block`);
    expect(await arrives(reader, "st_author", "blocked by the reader")).toBe(false);
    await act("st_reader", "POST", `/api/v1/accounts/${ids.st_author}/unblock`);
    expect(await arrives(reader, "st_author", "unblocked by the reader")).toBe(true);

    // The author blocks the reader: the reader's stream (another account's cache) drops the author's posts.
    await act("st_author", "POST", `/api/v1/accounts/${ids.st_reader}/block`);
    expect(await arrives(reader, "st_author", "the author blocks the reader")).toBe(false);
    await act("st_author", "POST", `/api/v1/accounts/${ids.st_reader}/unblock`);
    expect(await arrives(reader, "st_author", "the author unblocks the reader")).toBe(true);
    reader.close();
  });

  test("a user domain block and its undo change the cached relations of an open stream", async () => {
    const reader = await openReader("st_reader", "public");
    await subscribed(channelName(ns(), "public"));
    // A post from that domain as the stream filter sees it (remote posts arrive by federation, not tested here).
    const remote = { account: { id: "999999999", acct: "someone@Spam.Example" }, mentions: [], reblog: null } as unknown as StatusEntity;
    expect(hub.relations.allows(ids.st_reader!, remote)).toBe(true);
    await act("st_reader", "POST", "/api/v1/domain_blocks", { domain: "spam.example" });
    const until = async (wanted: boolean) => {
      const deadline = Date.now() + 1000;
      while (hub.relations.allows(ids.st_reader!, remote) !== wanted) {
        if (Date.now() > deadline) throw new Error(`domain block state did not become ${wanted}`);
        await Bun.sleep(5);
      }
    };
    await until(false);
    await act("st_reader", "DELETE", "/api/v1/domain_blocks", { domain: "spam.example" });
    await until(true);
    reader.close();
  });

  test("a relation change arriving while the relations load is in flight is not lost", async () => {
    // Drop the cache and start a load, then apply a change before the load's result lands.
    const reader = ids.st_late!;
    hub.relations.drop(reader);
    const loading = hub.relations.load(reader);
    hub.relations.apply(reader, { set: "muting", value: ids.st_author!, on: true });
    await loading;
    const status = { account: { id: ids.st_author, acct: "st_author" }, mentions: [], reblog: null } as unknown as StatusEntity;
    expect(hub.relations.allows(reader, status)).toBe(false);
    hub.relations.apply(reader, { set: "muting", value: ids.st_author!, on: false });
    expect(hub.relations.allows(reader, status)).toBe(true);
    // A malformed change (not a known set) is ignored rather than thrown on.
    expect(() => hub.relations.apply(reader, { set: "__proto__", value: "1", on: true } as never)).not.toThrow();
    hub.relations.drop(reader);
  });
});

describe("metrics", () => {
  test("a delivered update bumps messages sent by event; channels and connections are gauged", async () => {
    const before = await scrape();
    const reader = await openReader("st_other", "public:local");
    await subscribed(channelName(ns(), "public:local"));
    const id = await post("st_author", "counted");
    await reader.waitFor(id);
    const after = await scrape();
    const series = 'woolly_streaming_messages_sent_total{event="update"}';
    expect(sample(after, series)).toBeGreaterThanOrEqual(sample(before, series) + 1);
    expect(sample(after, "woolly_streaming_channels")).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'woolly_streaming_connections{transport="websocket"}')).toBeGreaterThanOrEqual(1);
    reader.close();
  });
});

describe("publishing only to listening accounts", () => {
  test("a follower without a stream gets no message; once its user stream opens (masto), the next post reaches it", async () => {
    await act("st_fan", "POST", `/api/v1/accounts/${ids.st_author}/follow`);
    const listener = context.redis.duplicate({ enableOfflineQueue: true });
    const heard: string[] = [];
    listener.on("message", (_channel: string, raw: string) => heard.push((JSON.parse(raw) as { statusId: string }).statusId));
    await listener.subscribe(homeChannel(ns(), ids.st_fan!));
    const sync = await openReader("st_other", "public:local");
    await subscribed(channelName(ns(), "public:local"));
    try {
      const unheard = await post("st_author", "nobody of the followers listens");
      await sync.waitFor(unheard);
      await Bun.sleep(100);
      expect(heard).not.toContain(unheard);
      expect(await onlineAmong(context.redis, ns(), [ids.st_fan!])).toEqual([]);

      const masto = createStreamingAPIClient({ streamingApiUrl: `ws://${base}`, accessToken: tokens.st_fan!, retry: false });
      const subscription = masto.user.subscribe();
      const got: string[] = [];
      const reading = (async () => {
        for await (const event of subscription) if (event.event === "update") got.push(event.payload.id);
      })();
      await subscribed(homeChannel(ns(), ids.st_fan!));
      expect(await onlineAmong(context.redis, ns(), [ids.st_fan!])).toEqual([ids.st_fan!]);
      const heardNow = await post("st_author", "the fan is listening now");
      const deadline = Date.now() + 1000;
      while (!got.includes(heardNow)) {
        if (Date.now() > deadline) throw new Error(`update did not reach the user stream; got ${JSON.stringify(got)}`);
        await Bun.sleep(5);
      }
      expect(heard).toContain(heardNow);
      subscription.unsubscribe();
      masto.close();
      await reading.catch(() => {});
    } finally {
      sync.close();
      listener.disconnect();
    }
  });

  test("records expire when a streaming process stops refreshing them (a dead process)", async () => {
    // A second streaming process with a short TTL and a fast refresh.
    const other = new StreamingHub(context, { maxConnectionsPerToken: 10, maxConnectionsPerIp: 100, presenceTtlMs: 400, presenceRefreshMs: 100 });
    const server = buildStreamingApp(context, other).listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${server.server!.port}/api/v1/streaming?access_token=${tokens.st_late}&stream=user`);
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve());
        ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
      });
      const deadline = Date.now() + 2000;
      while (other.subscribers(homeChannel(ns(), ids.st_late!)) === 0) {
        if (Date.now() > deadline) throw new Error("not subscribed");
        await Bun.sleep(10);
      }
      await other.settled();
      // Refreshed while connected: still there after more than one TTL.
      await Bun.sleep(700);
      expect(await onlineAmong(context.redis, ns(), [ids.st_late!])).toEqual([ids.st_late!]);
      // The process stops (no more refreshes; nothing removes the record): it expires within the TTL.
      await other.close();
      await Bun.sleep(500);
      expect(await onlineAmong(context.redis, ns(), [ids.st_late!])).toEqual([]);
    } finally {
      server.server?.stop(true);
    }
  });

  test("markOnline never shortens a record, prunes expired members, and onlineAmong keeps order across chunks", async () => {
    const key = presenceKey(ns());
    const many = Array.from({ length: 2500 }, (_, i) => String(9_000_000 + i));
    await markOnline(context.redis, ns(), many, 60_000);
    await markOnline(context.redis, ns(), [many[0]!], 1);
    const wanted = [many[2499]!, "1", many[0]!, many[1200]!];
    expect(await onlineAmong(context.redis, ns(), wanted)).toEqual([many[2499]!, many[0]!, many[1200]!]);
    await markOnline(context.redis, ns(), ["8000001"], 1);
    await Bun.sleep(5);
    await markOnline(context.redis, ns(), ["8000002"], 60_000);
    expect(await context.redis.zscore(key, "8000001")).toBeNull();
    await context.redis.zrem(key, ...many, "8000002");
  });
});
