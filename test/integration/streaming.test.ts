/**
 * The streaming API on a real port: a raw WebSocket client, an SSE client (fetch + stream reader) and the
 * `masto` streaming client against the streaming app, fed by a real worker running the publishing jobs.
 * Posts, edits, deletes, follows, mutes and blocks go through the REST API of the web app.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createStreamingAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken, revokeToken } from "../../src/features/auth/tokens";
import { channelName, homeChannel } from "../../src/features/streaming/channels";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { buildStreamingApp, createStreamingHub, parseFrame } from "../../src/streaming/app";
import { WebSocketConnection } from "../../src/streaming/connection";
import { StreamingHub } from "../../src/streaming/hub";
import { streamingMetrics } from "../../src/streaming/metrics";
import { resolveStream, streamFromPath } from "../../src/streaming/streams";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let hub: StreamingHub;
let streaming: ReturnType<typeof buildStreamingApp>;
let web: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let base: string;
const ids: Record<string, string> = {};
const tokens: Record<string, string> = {};
const ns = () => context.config.redis.namespace;

beforeAll(async () => {
  context = await testContext();
  hub = createStreamingHub(context);
  streaming = buildStreamingApp(context, hub).listen({ hostname: "127.0.0.1", port: 0 });
  base = `127.0.0.1:${streaming.server!.port}`;
  web = buildWebApp(context);
  workers = startWorkers({
    queues: ["default"],
    concurrency: 5,
    registry: jobRegistry,
    context,
    connection: context.bullConnection,
    prefix: context.bullPrefix,
  });
  for (const name of ["sm_alice", "sm_bob", "sm_carol", "sm_dave"]) {
    const { account } = await createLocalAccount(context.sql, context.config, {
      username: name,
      email: `${name}@example.com`,
      password: "correct horse battery",
      confirmed: true,
    });
    ids[name] = account.id;
    tokens[name] = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write follow" })).token;
  }
  const alice = (await context.sql`select id from users where account_id = ${ids.sm_alice!}`)[0]!.id as string;
  tokens.app = (await issueToken(context.sql, { userId: null, applicationId: null, scopes: "read" })).token;
  tokens.aliceNotificationsOnly = (await issueToken(context.sql, { userId: alice, applicationId: null, scopes: "read:notifications" })).token;
  tokens.aliceSecond = (await issueToken(context.sql, { userId: alice, applicationId: null, scopes: "read" })).token;
  // Alice follows Bob (through the API), mutes Carol and blocks Dave.
  for (const [target, action] of [
    ["sm_bob", "follow"],
    ["sm_carol", "mute"],
    ["sm_dave", "block"],
  ] as const) {
    const response = await api("sm_alice", "POST", `/api/v1/accounts/${ids[target]}/${action}`);
    expect(response.status).toBe(200);
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

async function post(who: string, status: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await api(who, "POST", "/api/v1/statuses", { status, ...extra });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

interface Frame {
  stream?: string[];
  event?: string;
  payload?: string;
  error?: string;
  status?: number;
}

/** A raw WebSocket client that records every frame and can wait for one. */
class Client {
  readonly frames: Frame[] = [];
  private waiters: { test: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly closedPromise: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => (w.test(frame) ? (w.resolve(frame), false) : true));
    });
    this.closedPromise = new Promise((resolve) =>
      ws.addEventListener("close", (event) => {
        this.closed = { code: event.code, reason: event.reason };
        resolve(this.closed);
      }),
    );
  }

  static async open(query: string, protocols?: string[]): Promise<Client> {
    const ws = new WebSocket(`ws://${base}/api/v1/streaming${query}`, protocols);
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
    });
    return client;
  }

  send(message: unknown) {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  next(test: (f: Frame) => boolean, timeoutMs = 2000): Promise<Frame> {
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), timeoutMs);
      this.waiters.push({ test, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  close() {
    this.ws.close();
  }
}

/** Wait until the hub is subscribed to these channels in Redis (subscribe frames are handled asynchronously). */
async function subscribed(...channels: string[]) {
  const deadline = Date.now() + 2000;
  while (!channels.every((c) => hub.subscribers(c) > 0)) {
    if (Date.now() > deadline) throw new Error(`not subscribed to ${channels.join(", ")}`);
    await Bun.sleep(10);
  }
  await hub.settled();
}

const isUpdate = (id: string, stream: string) => (f: Frame) =>
  f.event === "update" && f.stream?.[0] === stream && (JSON.parse(f.payload!) as { id: string }).id === id;

const upgradeHeaders = {
  connection: "Upgrade",
  upgrade: "websocket",
  "sec-websocket-version": "13",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
};

// ---- tests ----

describe("connecting", () => {
  test("health answers OK", async () => {
    const response = await fetch(`http://${base}/api/v1/streaming/health`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("OK");
  });

  test("every stream needs a user token: none, an app token or a bad one is 401 before the upgrade", async () => {
    for (const query of ["", `?access_token=${tokens.app}`, "?access_token=garbage"]) {
      const response = await fetch(`http://${base}/api/v1/streaming${query}`, { headers: upgradeHeaders });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBeString();
    }
    const bearer = await fetch(`http://${base}/api/v1/streaming`, { headers: { ...upgradeHeaders, authorization: "Bearer nope" } });
    expect(bearer.status).toBe(401);
    const sse = await fetch(`http://${base}/api/v1/streaming/public/local`);
    expect(sse.status).toBe(401);
    await sse.body?.cancel();
  });

  test("the token as Sec-WebSocket-Protocol is accepted and echoed back", async () => {
    const client = await Client.open("", [tokens.sm_alice!]);
    expect(client.ws.protocol).toBe(tokens.sm_alice!);
    client.close();
  });

  test("the access_token query parameter and the Authorization header work too", async () => {
    const byQuery = await Client.open(`?access_token=${tokens.sm_alice}`);
    byQuery.close();
    const ws = new WebSocket(`ws://${base}/api/v1/streaming`, { headers: { authorization: `Bearer ${tokens.sm_alice}` } } as never);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("refused")));
    });
    ws.close();
  });

  test("scopes are checked per stream", async () => {
    const client = await Client.open(`?access_token=${tokens.aliceNotificationsOnly}`);
    client.send({ type: "subscribe", stream: "public:local" });
    expect(await client.next((f) => f.error !== undefined)).toMatchObject({ error: "Access token does not have the required scopes", status: 401 });
    client.send({ type: "subscribe", stream: "user:notification" });
    await subscribed(channelName(ns(), `${ids.sm_alice}:notifications`));
    client.close();
  });
});

describe("bad frames get an error message, never a crash", () => {
  test("malformed JSON, unknown stream or type, missing tag, lists, huge frames", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}`);
    const answers: [unknown, string][] = [
      ["{not json", "Invalid JSON"],
      ["[1,2]", "Invalid message"],
      ["42", "Invalid message"],
      [{ type: "dance", stream: "user" }, "Unknown message type"],
      [{ type: "subscribe" }, "Unknown stream type"],
      [{ type: "subscribe", stream: "everything" }, "Unknown stream type"],
      [{ type: "subscribe", stream: "hashtag" }, "Missing tag name parameter"],
      [{ type: "subscribe", stream: "hashtag:local", tag: "" }, "Missing tag name parameter"],
      [{ type: "subscribe", stream: "list" }, "Missing list name parameter"],
      [{ type: "subscribe", stream: "list", list: "1" }, "Not authorized to stream this list"],
      ["x".repeat(20_000), "Message too large"],
    ];
    for (const [message, error] of answers) {
      const before = client.frames.length;
      client.send(message);
      const frame = await client.next((f) => client.frames.indexOf(f) >= before && f.error !== undefined);
      expect(frame.error).toBe(error);
      expect(typeof frame.status).toBe("number");
    }
    // Still serving: a good subscription works on the same socket.
    client.send({ type: "subscribe", stream: "public:local" });
    await subscribed(channelName(ns(), "public:local"));
    const id = await post("sm_bob", "still alive");
    await client.next(isUpdate(id, "public:local"));
    client.close();
  });

  test("a binary frame closes the socket with 1003", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}`);
    client.ws.send(new Uint8Array([1, 2, 3]));
    expect((await client.closedPromise).code).toBe(1003);
  });

  test("stream names → channels and scopes, SSE paths → stream names", () => {
    const reader = (scopes: string) => ({ accountId: "7", scopes: new Set(scopes.split(" ")) });
    expect(resolveStream({ stream: "user" }, reader("read:statuses"), "ns")).toEqual({ key: ["user"], channels: ["ns:timeline:7", "ns:timeline:announcements"], filtered: false });
    expect(resolveStream({ stream: "user" }, reader("read"), "").channels).toEqual(["timeline:7", "timeline:7:notifications", "timeline:announcements"]);
    expect(resolveStream({ stream: "hashtag:local", tag: "#Café" }, reader("read"), "").channels).toEqual(["timeline:hashtag:café:local"]);
    expect(() => resolveStream({ stream: "user:notification" }, reader("read:statuses"), "")).toThrow("Access token does not have the required scopes");
    expect(streamFromPath("/public/local", true)).toBe("public:local:media");
    expect(streamFromPath("/user/notification", true)).toBe("user:notification");
    expect(streamFromPath("/public/../user", false)).toBeUndefined();
  });

  test("parseFrame keeps tag and list as strings", () => {
    expect(parseFrame('{"type":"subscribe","stream":"list","list":42}')).toEqual({ type: "subscribe", request: { stream: "list", tag: undefined, list: "42" } });
    expect(parseFrame('{"type":"subscribe","stream":"hashtag","tag":{"x":1}}')).toEqual({ type: "subscribe", request: { stream: "hashtag", tag: undefined, list: undefined } });
  });
});

describe("events", () => {
  test("a post arrives on user and public:local within 1 s; edit → status.update; delete → delete", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=user`);
    client.send({ type: "subscribe", stream: "public:local" });
    await subscribed(homeChannel(ns(), ids.sm_alice!), channelName(ns(), "public:local"));

    const started = performance.now();
    const id = await post("sm_bob", "Hello followers #woollytest");
    const home = await client.next(isUpdate(id, "user"));
    await client.next(isUpdate(id, "public:local"));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(typeof home.payload).toBe("string");
    const status = JSON.parse(home.payload!) as { id: string; content: string; account: { id: string } };
    expect(status.account.id).toBe(ids.sm_bob!);
    expect(status.content).toContain("Hello followers");

    const edited = await api("sm_bob", "PUT", `/api/v1/statuses/${id}`, { status: "Hello again" });
    expect(edited.status).toBe(200);
    const update = await client.next((f) => f.event === "status.update" && f.stream?.[0] === "user");
    expect((JSON.parse(update.payload!) as { content: string }).content).toContain("Hello again");

    expect((await api("sm_bob", "DELETE", `/api/v1/statuses/${id}`)).status).toBe(200);
    const deleted = await client.next((f) => f.event === "delete" && f.stream?.[0] === "public:local");
    expect(deleted.payload).toBe(id);
    client.close();
  });

  test("a followers-only post reaches the follower's user stream, not public streams", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=user`);
    client.send({ type: "subscribe", stream: "public" });
    await subscribed(homeChannel(ns(), ids.sm_alice!), channelName(ns(), "public"));
    const id = await post("sm_bob", "for followers", { visibility: "private" });
    const frame = await client.next(isUpdate(id, "user"));
    expect((JSON.parse(frame.payload!) as { visibility: string }).visibility).toBe("private");
    await Bun.sleep(200);
    expect(client.frames.some((f) => f.stream?.[0] === "public" && f.event === "update")).toBe(false);
    client.close();
  });

  test("a direct post becomes a `conversation` on the mentioned reader's direct stream", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=direct`);
    await subscribed(channelName(ns(), `direct:${ids.sm_alice}`));
    const id = await post("sm_bob", "@sm_alice just between us", { visibility: "direct" });
    const frame = await client.next((f) => f.event === "conversation");
    expect(frame.stream).toEqual(["direct"]);
    const conversation = JSON.parse(frame.payload!) as { unread: boolean; accounts: { id: string }[]; last_status: { id: string; visibility: string } };
    expect(conversation).toMatchObject({ unread: true, accounts: [{ id: ids.sm_bob }], last_status: { id, visibility: "direct" } });
    expect((await api("sm_bob", "DELETE", `/api/v1/statuses/${id}`)).status).toBe(200);
    expect((await client.next((f) => f.event === "delete")).payload).toBe(id);
    client.close();
  });

  test("a hashtag stream gets tagged posts", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=hashtag&tag=Knitting`);
    await subscribed(channelName(ns(), "hashtag:knitting"));
    const id = await post("sm_bob", "cables today #knitting");
    const frame = await client.next(isUpdate(id, "hashtag"));
    expect(frame.stream).toEqual(["hashtag", "Knitting"]);
    client.close();
  });

  test("a mention becomes a notification on the user stream", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=user`);
    await subscribed(channelName(ns(), `${ids.sm_alice}:notifications`));
    const id = await post("sm_bob", "@sm_alice look at this");
    const frame = await client.next((f) => f.event === "notification");
    expect(frame.stream).toEqual(["user"]);
    const notification = JSON.parse(frame.payload!) as { type: string; status: { id: string }; account: { id: string } };
    expect(notification).toMatchObject({ type: "mention", status: { id }, account: { id: ids.sm_bob } });
    client.close();
  });

  test("a muted or blocked author's post never arrives; a later post does", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=public:local`);
    await subscribed(channelName(ns(), "public:local"));
    const muted = await post("sm_carol", "from the muted one");
    const blocked = await post("sm_dave", "from the blocked one");
    const control = await post("sm_bob", "from the followed one");
    await client.next(isUpdate(control, "public:local"));
    await Bun.sleep(300);
    const seen = client.frames.filter((f) => f.event === "update").map((f) => (JSON.parse(f.payload!) as { id: string }).id);
    expect(seen).toContain(control);
    expect(seen).not.toContain(muted);
    expect(seen).not.toContain(blocked);
    client.close();
  });

  test("many readers of one stream (native publish): a muting reader is skipped, the others get it", async () => {
    const alices = await Promise.all(Array.from({ length: 20 }, () => Client.open(`?access_token=${tokens.sm_alice}&stream=public:local`)));
    const bob = await Client.open(`?access_token=${tokens.sm_bob}&stream=public:local`);
    await subscribed(channelName(ns(), "public:local"));
    while (hub.subscribers(channelName(ns(), "public:local")) < 21) await Bun.sleep(10);
    const muted = await post("sm_carol", "muted by alice, not by bob");
    await bob.next(isUpdate(muted, "public:local"));
    const control = await post("sm_bob", "for everyone");
    await Promise.all([bob, ...alices].map((c) => c.next(isUpdate(control, "public:local"))));
    for (const alice of alices) expect(alice.frames.some((f) => f.payload?.includes(muted))).toBe(false);
    for (const c of [bob, ...alices]) c.close();
  });

  test("unsubscribe stops events", async () => {
    const client = await Client.open(`?access_token=${tokens.sm_alice}&stream=user`);
    client.send({ type: "subscribe", stream: "public:local" });
    await subscribed(homeChannel(ns(), ids.sm_alice!), channelName(ns(), "public:local"));
    client.send({ type: "unsubscribe", stream: "public:local" });
    await Bun.sleep(50);
    const id = await post("sm_bob", "only on user now");
    await client.next(isUpdate(id, "user"));
    await Bun.sleep(300);
    expect(client.frames.some((f) => f.stream?.[0] === "public:local")).toBe(false);
    client.close();
  });

  test("SSE: text/event-stream with `event: update` frames", async () => {
    const response = await fetch(`http://${base}/api/v1/streaming/public/local`, { headers: { authorization: `Bearer ${tokens.sm_alice}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const id = await post("sm_bob", "over SSE");
    let text = "";
    const deadline = Date.now() + 2000;
    while (!text.includes(`"id":"${id}"`) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toStartWith(":)");
    // Blocks are separated by a blank line; comment lines (":)", ":thump") carry nothing.
    const frame = text
      .split("\n\n")
      .map((block) => block.split("\n").filter((line) => !line.startsWith(":")).join("\n"))
      .find((block) => block.includes(`"id":"${id}"`))!;
    expect(frame).toStartWith("event: update\ndata: {");
    expect((JSON.parse(frame.split("\ndata: ")[1]!) as { id: string }).id).toBe(id);
    await reader.cancel();
  });

  test("SSE: unknown path is 404, missing tag 400", async () => {
    const headers = { authorization: `Bearer ${tokens.sm_alice}` };
    expect((await fetch(`http://${base}/api/v1/streaming/nowhere`, { headers })).status).toBe(404);
    const missing = await fetch(`http://${base}/api/v1/streaming/hashtag`, { headers });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: "Missing tag name parameter" });
  });

  test("the masto streaming client gets updates on public:local", async () => {
    const masto = createStreamingAPIClient({ streamingApiUrl: `ws://${base}`, accessToken: tokens.sm_alice, retry: false });
    const subscription = masto.public.local.subscribe();
    const iterator = subscription[Symbol.asyncIterator]();
    const channel = channelName(ns(), "public:local");
    const before = hub.subscribers(channel);
    const first = iterator.next();
    // The masto client connects, then sends its subscribe frame: wait until the hub has it.
    const deadline = Date.now() + 5000;
    while (hub.subscribers(channel) <= before && Date.now() < deadline) await Bun.sleep(10);
    await hub.settled();
    const id = await post("sm_bob", "hello masto");
    const withTimeout = <T>(p: Promise<T>) => Promise.race([p, Bun.sleep(3000).then(() => Promise.reject(new Error("no event from masto")))]);
    let result = await withTimeout(first);
    while ((result.value as { payload: { id?: string } }).payload.id !== id) result = await withTimeout(iterator.next());
    expect(result.value).toMatchObject({ event: "update", stream: ["public:local"], payload: { id } });
    subscription.unsubscribe();
    masto.close();
  });
});

describe("limits, revocation, slow readers, shutdown", () => {
  test("connections per token are limited; revoked tokens are cut; shutdown closes with 1001", async () => {
    const small = new StreamingHub(context, { maxConnectionsPerToken: 2, maxConnectionsPerIp: 100 });
    const app = buildStreamingApp(context, small).listen({ hostname: "127.0.0.1", port: 0 });
    const url = `ws://127.0.0.1:${app.server!.port}/api/v1/streaming?access_token=${tokens.aliceSecond}`;
    try {
      const opened = await Promise.all([0, 1].map(() => openRaw(url)));
      const refused = await fetch(url.replace("ws:", "http:"), { headers: upgradeHeaders });
      expect(refused.status).toBe(429);

      expect(await revokeToken(context.sql, tokens.aliceSecond!)).toBe(true);
      await small.checkTokens();
      for (const client of opened) expect((await client.closedPromise).code).toBe(1008);

      const other = await openRaw(`ws://127.0.0.1:${app.server!.port}/api/v1/streaming?access_token=${tokens.sm_alice}`);
      expect(small.stats().connections).toBe(1);
      await small.close();
      expect((await other.closedPromise).code).toBe(1001);
      expect(small.stats().connections).toBe(0);
    } finally {
      await small.close();
      app.server?.stop(true);
    }
  });

  test("a reader whose unsent data passes the limit is closed with 1013", () => {
    const closes: number[] = [];
    const socket = { send: () => -1, getBufferedAmount: () => 2 * 1024 * 1024, close: (code: number) => closes.push(code) };
    const connection = new WebSocketConnection({ account: { id: "1" } as never, tokenId: "1", scopes: new Set(), ip: "127.0.0.1" });
    connection.socket = socket as never;
    const before = streamingMetrics.slowConsumersClosed;
    expect(connection.write("{}")).toBe(false);
    expect(closes).toEqual([1013]);
    expect(streamingMetrics.slowConsumersClosed).toBe(before + 1);
  });
});

function openRaw(url: string): Promise<Client> {
  const ws = new WebSocket(url);
  const client = new Client(ws);
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve(client));
    ws.addEventListener("error", () => reject(new Error("refused")));
  });
}
