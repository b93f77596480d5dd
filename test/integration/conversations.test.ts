/**
 * Direct-message conversations through the web app, the workers (the status.created / status.deleted
 * subscriber) and the streaming role: per-participant rows, unread for non-authors, read / unread / delete,
 * the latest status moving on replies and falling back on deletes, paging with Link headers, masto.js and
 * megalodon, and the `conversation` event on the direct stream carrying the API's id. Usernames: `ca_c`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { statusCreated } from "../../src/features/conversations/service";
import { directChannel, homeChannel } from "../../src/features/streaming/channels";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { buildStreamingApp, createStreamingHub } from "../../src/streaming/app";
import type { StreamingHub } from "../../src/streaming/hub";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let web: ReturnType<typeof buildWebApp>;
let base: string;
let workers: RunningWorkers;
const call = inProcessApi(() => app);
let counter = 0;
type User = LocalAccountRow & { token: string };

async function user(name: string): Promise<User> {
  const username = `ca_c${name}_${++counter}_${Date.now().toString(36)}`;
  const { account, token } = await makeTestUser(context, username, { scopes: "read write follow" });
  return { ...account, token: token! };
}

const as = (who: { token: string }) => ({
  get: (path: string) => call("GET", path, { token: who.token }),
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  del: (path: string) => call("DELETE", path, { token: who.token }),
});

async function dm(who: User, text: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await as(who).post("/api/v1/statuses", { status: text, visibility: "direct", ...extra });
  expect(response.status).toBe(200);
  return response.json.id;
}

type Conversation = { id: string; unread: boolean; accounts: { id: string }[]; last_status: { id: string } | null };
const list = async (who: User, query = "") => (await as(who).get(`/api/v1/conversations${query}`)).json as Conversation[];

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value).slice(0, 500)}`);
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${web.server!.port}`;
  workers = startWorkers({ queues: ["default"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
});

afterAll(async () => {
  await workers.close(5000);
  await web.stop(true);
  await context.close();
});

describe("conversations", () => {
  test("a direct post makes one conversation per participant; replies move it on; read, unread, delete", async () => {
    const bob = await user("bob");
    const alice = await user("alice");
    const carol = await user("carol");
    const first = await dm(bob, `@${alice.username} @${carol.username} secret plans`);
    // A public post and a followers-only post make no conversation.
    await as(bob).post("/api/v1/statuses", { status: `@${alice.username} hello in public` });
    await as(bob).post("/api/v1/statuses", { status: `@${alice.username} hello followers`, visibility: "private" });

    const aliceList = await eventually(() => list(alice), (l) => l.length === 1);
    expectMatchesSchema(aliceList, arrayOf("Conversation"));
    expect(aliceList[0]).toMatchObject({ unread: true, last_status: { id: first } });
    expect(aliceList[0]!.accounts.map((a) => a.id).sort()).toEqual([bob.id, carol.id].sort());
    const bobList = await eventually(() => list(bob), (l) => l.length === 1);
    expect(bobList[0]).toMatchObject({ unread: false, last_status: { id: first } });
    expect(bobList[0]!.accounts.map((a) => a.id).sort()).toEqual([alice.id, carol.id].sort());
    expect(bobList[0]!.id).not.toBe(aliceList[0]!.id);
    await eventually(() => list(carol), (l) => l.length === 1 && l[0]!.unread);

    // Alice reads, then replies: Bob's is unread again, Alice's stays read, the last status moves.
    const read = await as(alice).post(`/api/v1/conversations/${aliceList[0]!.id}/read`);
    expect(read.status).toBe(200);
    expectMatchesSchema(read.json, "Conversation");
    expect(read.json.unread).toBe(false);
    const reply = await dm(alice, `@${bob.username} @${carol.username} count me in`, { in_reply_to_id: first });
    await eventually(() => list(bob), (l) => l[0]?.last_status?.id === reply && l[0]!.unread);
    const aliceAfter = await eventually(() => list(alice), (l) => l[0]?.last_status?.id === reply);
    expect(aliceAfter).toHaveLength(1);
    expect(aliceAfter[0]!.unread).toBe(false);
    expect((await as(alice).post(`/api/v1/conversations/${aliceList[0]!.id}/unread`)).json.unread).toBe(true);

    // Deleting the latest status brings the previous one back as last_status.
    expect((await as(alice).del(`/api/v1/statuses/${reply}`)).status).toBe(200);
    await eventually(() => list(bob), (l) => l[0]?.last_status?.id === first);

    // Deleting a conversation removes it from that participant's list only.
    expect((await as(carol).del(`/api/v1/conversations/${(await list(carol))[0]!.id}`)).status).toBe(200);
    expect(await list(carol)).toEqual([]);
    expect(await list(bob)).toHaveLength(1);

    // Someone else's conversation, unknown and malformed ids: 404; no token: 401.
    for (const path of [`/api/v1/conversations/${bobList[0]!.id}/read`, "/api/v1/conversations/123/read", "/api/v1/conversations/x/read"]) {
      expect([path, (await as(alice).post(path)).status]).toEqual([path, 404]);
    }
    expect((await as(alice).del(`/api/v1/conversations/${bobList[0]!.id}`)).status).toBe(404);
    expect((await call("GET", "/api/v1/conversations")).status).toBe(401);
  });

  test("a remote direct post that starts a thread (stored without a conversation) gets one", async () => {
    const me = await user("remote_dm");
    const [remote] = await context.sql<{ id: string }[]>`
      insert into accounts (username, domain, uri) values ('ca_cremote', ${`r${Date.now()}.example`}, ${`https://r${Date.now()}.example/users/ca_cremote`}) returning id`;
    const [status] = await context.sql<{ id: string }[]>`
      insert into statuses (account_id, uri, content, visibility, local) values (${remote!.id}, ${`https://remote.example/s/${Date.now()}`}, '<p>hi</p>', 'direct', false)
      returning id`;
    await context.sql`insert into mentions (status_id, account_id) values (${status!.id}, ${me.id})`;
    await statusCreated(context, status!.id, "test");
    const [listed] = await list(me);
    expect(listed).toMatchObject({ unread: true, accounts: [{ id: remote!.id }], last_status: { id: status!.id } });
    const [row] = await context.sql<{ conversation_id: string | null }[]>`select conversation_id from statuses where id = ${status!.id}`;
    expect(row!.conversation_id).not.toBeNull();
    // Running the job again changes nothing (no second conversation, no second row).
    await statusCreated(context, status!.id, "again");
    expect(await list(me)).toHaveLength(1);
    const [again] = await context.sql<{ conversation_id: string }[]>`select conversation_id from statuses where id = ${status!.id}`;
    expect(again!.conversation_id).toBe(row!.conversation_id!);
  });

  test("paging by latest status with Link headers; masto.js and megalodon", async () => {
    const me = await user("pager");
    const others = await Promise.all([user("p1"), user("p2"), user("p3")]);
    const ids: string[] = [];
    for (const other of others) ids.push(await dm(other, `@${me.username} hi from ${other.username}`));
    await eventually(() => list(me), (l) => l.length === 3);
    const page1 = await as(me).get("/api/v1/conversations?limit=2");
    expect(page1.json.map((c: Conversation) => c.last_status!.id)).toEqual([ids[2], ids[1]]);
    const next = /<([^>]+)>; rel="next"/.exec(page1.headers.get("link") ?? "")?.[1];
    expect(next).toContain(`max_id=${ids[1]}`);
    const page2 = await as(me).get(new URL(next!).pathname + new URL(next!).search);
    expect(page2.json.map((c: Conversation) => c.last_status!.id)).toEqual([ids[0]]);
    expect((await as(me).get("/api/v1/conversations?limit=-1")).status).toBe(400);

    const masto = createRestAPIClient({ url: base, accessToken: me.token });
    const viaMasto = await masto.v1.conversations.list({ limit: 10 });
    expect(viaMasto.map((c) => c.lastStatus?.id)).toEqual([ids[2], ids[1], ids[0]]);
    await masto.v1.conversations.$select(viaMasto[0]!.id).read();
    const mega = generator("mastodon", base, me.token);
    const viaMega = (await mega.getConversationTimeline()).data;
    expect(viaMega.map((c) => [c.last_status?.id, c.unread])).toEqual([[ids[2], false], [ids[1], true], [ids[0], true]]);
    await mega.readConversation(viaMega[1]!.id);
    await mega.deleteConversation(viaMega[2]!.id);
    expect((await mega.getConversationTimeline()).data.map((c) => [c.last_status?.id, c.unread])).toEqual([[ids[2], false], [ids[1], false]]);
  });
});

describe("the direct and list streams", () => {
  let hub: StreamingHub;
  let streaming: ReturnType<typeof buildStreamingApp>;
  beforeAll(() => {
    hub = createStreamingHub(context);
    streaming = buildStreamingApp(context, hub).listen({ hostname: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await hub.close();
    streaming.server?.stop(true);
  });

  test("a `conversation` event carries the conversation as the API lists it, once", async () => {
    const me = await user("streamer");
    const sender = await user("sender");
    const frames: { stream: string[]; event: string; payload: string }[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${streaming.server!.port}/api/v1/streaming?access_token=${me.token}&stream=direct`);
    ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
    });
    const deadline = Date.now() + 3000;
    while (hub.subscribers(directChannel(context.config.redis.namespace, me.id)) < 1) {
      if (Date.now() > deadline) throw new Error("not subscribed");
      await Bun.sleep(10);
    }
    await hub.settled();
    const id = await dm(sender, `@${me.username} psst`);
    await eventually(async () => frames, (f) => f.some((x) => x.event === "conversation"), 3000);
    await Bun.sleep(300);
    const events = frames.filter((x) => x.event === "conversation");
    expect(events).toHaveLength(1);
    expect(events[0]!.stream).toEqual(["direct"]);
    const conversation = JSON.parse(events[0]!.payload) as Conversation;
    expectMatchesSchema(conversation, "Conversation");
    const [listed] = await list(me);
    expect(conversation).toMatchObject({ id: listed!.id, unread: true, accounts: [{ id: sender.id }], last_status: { id } });
    ws.close();
  });
  test("a `list` stream carries the list members' posts (replies as the list's policy says), owner only", async () => {
    const owner = await user("lowner");
    const member = await user("lmember");
    const outsider = await user("loutsider");
    const stranger = await user("lstranger");
    for (const whom of [member, outsider]) expect((await as(owner).post(`/api/v1/accounts/${whom.id}/follow`)).status).toBe(200);
    const list = (await as(owner).post("/api/v1/lists", { title: "Members", replies_policy: "list" })).json as { id: string };
    expect((await as(owner).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [member.id] })).status).toBe(200);

    const open = async (token: string, query: string) => {
      const frames: { stream?: string[]; event?: string; payload?: string; error?: string; status?: number }[] = [];
      const ws = new WebSocket(`ws://127.0.0.1:${streaming.server!.port}/api/v1/streaming?access_token=${token}${query}`);
      ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve());
        ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
      });
      return { ws, frames };
    };
    // Someone else's list, a missing one and a malformed id: Mastodon's 401 error frame, socket kept.
    const intruder = await open(stranger.token, "");
    for (const id of [list.id, "99999999", "x", "99999999999999999999999"]) intruder.ws.send(JSON.stringify({ type: "subscribe", stream: "list", list: id }));
    await eventually(async () => intruder.frames, (f) => f.length === 4, 3000);
    expect(intruder.frames.map((f) => [f.error, f.status])).toEqual(Array(4).fill(["Not authorized to stream this list", 401]));
    intruder.ws.close();
    // SSE answers the same: 401 for someone else's list, an event stream for one's own.
    const sse = (token: string) => fetch(`http://127.0.0.1:${streaming.server!.port}/api/v1/streaming/list?list=${list.id}`, { headers: { authorization: `Bearer ${token}` } });
    const refused = await sse(stranger.token);
    expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([401, "Not authorized to stream this list"]);
    const accepted = await sse(owner.token);
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("content-type")).toContain("text/event-stream");
    await accepted.body?.cancel();

    const mine = await open(owner.token, `&stream=list&list=${list.id}`);
    const deadline = Date.now() + 3000;
    while (hub.subscribers(homeChannel(context.config.redis.namespace, owner.id)) < 1) {
      if (Date.now() > deadline) throw new Error("not subscribed");
      await Bun.sleep(10);
    }
    await hub.settled();
    const post = async (who: User, status: string, extra: Record<string, unknown> = {}) => (await as(who).post("/api/v1/statuses", { status, ...extra })).json.id as string;
    const inList = await post(member, "member speaking");
    const notInList = await post(outsider, "outsider speaking");
    const replyToOutsider = await post(member, `@${outsider.username} a reply to a non-member`, { in_reply_to_id: notInList });
    const privatePost = await post(member, "for followers", { visibility: "private" });
    await eventually(async () => mine.frames, (f) => f.filter((x) => x.event === "update").length >= 2, 5000);
    await Bun.sleep(500);
    const updates = mine.frames.filter((x) => x.event === "update");
    expect(updates.map((x) => x.stream)).toEqual([["list", list.id], ["list", list.id]]);
    expect(updates.map((x) => JSON.parse(x.payload!).id)).toEqual([inList, privatePost]);
    expect(replyToOutsider).toBeTruthy();
    mine.ws.close();
  });
});
