/**
 * Web Push end to end: a subscription made through the API (and through masto.js), a real notification from
 * the `default` worker, the `push` worker delivering to a loopback push endpoint (allowed by the test
 * setting), and the test DECRYPTING the message per RFC 8291 (ECDH + HKDF + AES-128-GCM, node:crypto) with the
 * subscription's private keys, and checking the VAPID JWT's signature (RFC 8292). Alerts and policy filter
 * what is sent; 410 removes the subscription. Usernames start with `cb_push`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from "node:crypto";
import { createRestAPIClient } from "masto";
import webpush from "web-push";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { deliverPush, recipientsOf } from "../../src/features/push/service";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { loadConfig } from "../../src/infra/config";
import { inProcessApi } from "../helpers/api";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

type User = LocalAccountRow & { token: string };
interface Received {
  path: string;
  headers: Headers;
  body: Uint8Array;
}

const VAPID = webpush.generateVAPIDKeys();
let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let endpointServer: ReturnType<typeof Bun.serve>;
const received: Received[] = [];
let alice: User, bob: User, carol: User;
let aliceKeys: ReturnType<typeof browserKeys>;
const call = inProcessApi(() => app);
// Queues of our own (the database is the run's): our workers run only our jobs, and other files' workers never see ours.
const OWN_NAMESPACE = `${process.env.REDIS_NAMESPACE}_cb_push`;

/** A browser's side of a subscription: its ECDH key pair and auth secret. */
function browserKeys() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  return { ecdh, p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16) };
}

/** RFC 8291 §3.4 and RFC 8188: undo what the server did, with the user agent's private key and auth secret. */
function decryptAes128gcm(body: Uint8Array, ecdh: ECDH, authSecret: Buffer): string {
  const buffer = Buffer.from(body);
  const salt = buffer.subarray(0, 16);
  const recordSize = buffer.readUInt32BE(16);
  const idLength = buffer[20]!;
  const serverPublic = buffer.subarray(21, 21 + idLength);
  const ciphertext = buffer.subarray(21 + idLength);
  expect(idLength).toBe(65);
  expect(ciphertext.length).toBeLessThanOrEqual(recordSize);
  const shared = ecdh.computeSecret(serverPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), serverPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", shared, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  // The last record ends with the delimiter 0x02 and optional zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2);
  return padded.subarray(0, end).toString("utf8");
}

/** RFC 8292: `vapid t=<JWT>, k=<public key>`; the JWT is ES256-signed by our key, for the endpoint's origin. */
function checkVapid(header: string | null, endpointOrigin: string) {
  const match = /^vapid t=([^,]+),\s*k=(.+)$/.exec(header ?? "");
  expect(match).not.toBeNull();
  const [, jwt, k] = match!;
  expect(k).toBe(VAPID.publicKey);
  const [head, claims, signature] = jwt!.split(".");
  expect(JSON.parse(Buffer.from(head!, "base64url").toString())).toMatchObject({ typ: "JWT", alg: "ES256" });
  const payload = JSON.parse(Buffer.from(claims!, "base64url").toString());
  expect(payload.aud).toBe(endpointOrigin);
  expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
  const point = Buffer.from(VAPID.publicKey, "base64url");
  const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") }, format: "jwk" });
  expect(verify("sha256", Buffer.from(`${head}.${claims}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature!, "base64url"))).toBe(true);
}

async function eventually<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await Bun.sleep(50);
  }
}

async function user(name: string, scopes = "read write follow push"): Promise<User> {
  const { account, token } = await makeTestUser(context, `cb_push_${name}`, { scopes });
  return { ...account, token: token! };
}

const origin = () => `http://127.0.0.1:${endpointServer.port}`;
const subscribe = (who: User, path: string, keys: ReturnType<typeof browserKeys>, data: unknown, standard = true) =>
  call("POST", "/api/v1/push/subscription", {
    token: who.token,
    json: { subscription: { endpoint: `${origin()}${path}`, keys: { p256dh: keys.p256dh, auth: keys.auth.toString("base64url") }, standard }, data },
  });

beforeAll(async () => {
  endpointServer = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      received.push({ path, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
      if (path.startsWith("/gone")) return new Response("gone", { status: 410 });
      if (path.startsWith("/unavailable")) return new Response("busy", { status: 503 });
      return new Response(null, { status: 201 });
    },
  });
  context = await testContext({ ALLOWED_PRIVATE_ADDRESSES: "127.0.0.1/32", VAPID_PUBLIC_KEY: VAPID.publicKey, VAPID_PRIVATE_KEY: VAPID.privateKey, REDIS_NAMESPACE: OWN_NAMESPACE });
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default", "push"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  [alice, bob, carol] = await Promise.all([user("alice"), user("bob"), user("carol")]);
  aliceKeys = browserKeys();
});

afterAll(async () => {
  await workers.close(5000);
  await context.close();
  endpointServer.stop(true);
});

const pushesTo = (path: string) => received.filter((r) => r.path === path);

describe("delivery", () => {
  test("a follow notification reaches the push endpoint, encrypted (RFC 8291) and VAPID-signed; the test decrypts it", async () => {
    const created = await subscribe(alice, "/alice", aliceKeys, { alerts: { follow: true, mention: true, favourite: false }, policy: "all" });
    expect(created.status).toBe(200);
    expectMatchesSchema(created.json, "WebPushSubscription");
    expect(created.json).toMatchObject({ endpoint: `${origin()}/alice`, standard: true, policy: "all", server_key: VAPID.publicKey });
    expect(created.json.alerts).toMatchObject({ follow: true, mention: true, favourite: false, reblog: false, "admin.report": false });

    expect((await call("POST", `/api/v1/accounts/${alice.id}/follow`, { token: bob.token })).status).toBe(200);
    const pushes = await eventually(() => pushesTo("/alice"), (list) => list.length >= 1);
    expect(pushes.length).toBe(1);
    const push = pushes[0]!;
    expect(push.headers.get("content-encoding")).toBe("aes128gcm");
    expect(push.headers.get("content-type")).toBe("application/octet-stream");
    expect(Number(push.headers.get("ttl"))).toBe(48 * 3600);
    expect(push.headers.get("urgency")).toBe("normal");
    checkVapid(push.headers.get("authorization"), origin());

    const payload = JSON.parse(decryptAes128gcm(push.body, aliceKeys.ecdh, aliceKeys.auth));
    const notifications = (await call("GET", "/api/v1/notifications", { token: alice.token })).json as { id: string; type: string }[];
    expect(payload).toEqual({
      access_token: alice.token,
      preferred_locale: "en",
      notification_id: notifications.find((n) => n.type === "follow")!.id,
      notification_type: "follow",
      icon: expect.stringMatching(/^http/),
      title: `${bob.username} is now following you`,
      body: "",
    });
  });

  test("alerts filter by type: a favourite (off) is not pushed, a mention (on) is, with the post's text", async () => {
    const before = pushesTo("/alice").length;
    const own = await call("POST", "/api/v1/statuses", { token: alice.token, json: { status: "my post" } });
    expect((await call("POST", `/api/v1/statuses/${own.json.id}/favourite`, { token: bob.token })).status).toBe(200);
    // The favourite's notification exists (so its push was decided, and refused) before the mention is made.
    await eventually(
      async () => (await call("GET", "/api/v1/notifications?types[]=favourite", { token: alice.token })).json as unknown[],
      (list) => list.length === 1,
    );
    expect((await call("POST", "/api/v1/statuses", { token: bob.token, json: { status: `@${alice.username} hello there` } })).status).toBe(200);
    await eventually(() => pushesTo("/alice").slice(before), (list) => list.length >= 1);
    await Bun.sleep(500);
    const pushes = pushesTo("/alice").slice(before);
    expect(pushes.length).toBe(1);
    const payload = JSON.parse(decryptAes128gcm(pushes[0]!.body, aliceKeys.ecdh, aliceKeys.auth));
    expect(payload).toMatchObject({ notification_type: "mention", title: `You were mentioned by ${bob.username}` });
    expect(payload.body).toContain("hello there");
  });

  test("policy: followed / follower / none decide whose notifications are pushed", async () => {
    // bob follows alice (first test); alice follows nobody.
    const notification = (await call("GET", "/api/v1/notifications?types[]=follow", { token: alice.token })).json[0] as { id: string };
    const put = (json: unknown) => call("PUT", "/api/v1/push/subscription", { token: alice.token, json });
    const recipients = async () => (await recipientsOf(context, alice.id, notification.id)).length;
    expect(await recipients()).toBe(1);
    expect((await put({ data: { policy: "followed" } })).json.policy).toBe("followed");
    expect(await recipients()).toBe(0);
    expect((await put({ data: { policy: "follower" } })).json.policy).toBe("follower");
    expect(await recipients()).toBe(1);
    expect((await put({ data: { policy: "none" } })).json.policy).toBe("none");
    expect(await recipients()).toBe(0);
    const back = await put({ data: { policy: "all", alerts: { follow: false } } });
    expect(back.json).toMatchObject({ policy: "all", alerts: { follow: false, mention: true } });
    expect(await recipients()).toBe(0);
    await put({ data: { alerts: { follow: true } } });
    expect(await recipients()).toBe(1);
  });

  test("a push service answering 410 makes the subscription go away", async () => {
    const keys = browserKeys();
    expect((await subscribe(carol, "/gone/carol", keys, { alerts: { follow: true } })).status).toBe(200);
    expect((await call("POST", `/api/v1/accounts/${carol.id}/follow`, { token: bob.token })).status).toBe(200);
    await eventually(() => pushesTo("/gone/carol"), (list) => list.length >= 1);
    const gone = await eventually(
      () => call("GET", "/api/v1/push/subscription", { token: carol.token }),
      (r) => r.status === 404,
    );
    expect(gone.json).toEqual({ error: "Record not found" });
    expect(pushesTo("/gone/carol").length).toBe(1);
  });

  test("a push service failing (503, unreachable) makes the job retry; the subscription stays", async () => {
    const hank = await user("hank");
    const created = await subscribe(hank, "/unavailable/hank", browserKeys(), { alerts: { follow: true } });
    expect((await call("POST", `/api/v1/accounts/${hank.id}/follow`, { token: bob.token })).status).toBe(200);
    const notification = await eventually(
      async () => (await context.sql<{ id: string }[]>`select id from notifications where account_id = ${hank.id}`)[0],
      (row) => row !== undefined,
    );
    await expect(deliverPush(context, created.json.id, notification!.id)).rejects.toThrow("push service answered 503");
    // A push service that does not answer at all: the network error propagates too (BullMQ retries it).
    await context.sql`update web_push_subscriptions set endpoint = 'http://127.0.0.1:1/nobody' where id = ${created.json.id}`;
    await expect(deliverPush(context, created.json.id, notification!.id)).rejects.toThrow();
    expect((await call("GET", "/api/v1/push/subscription", { token: hank.token })).status).toBe(200);
  });

  test("a revoked token's subscription receives nothing", async () => {
    const dave = await user("dave");
    const keys = browserKeys();
    expect((await subscribe(dave, "/dave", keys, { alerts: { follow: true } })).status).toBe(200);
    await context.sql`update oauth_access_tokens set revoked_at = now() where user_id = ${dave.user.id}`;
    expect((await call("POST", `/api/v1/accounts/${dave.id}/follow`, { token: bob.token })).status).toBe(200);
    const notification = await eventually(
      async () => (await context.sql<{ id: string }[]>`select id from notifications where account_id = ${dave.id}`)[0],
      (row) => row !== undefined,
    );
    expect(await recipientsOf(context, dave.id, notification!.id)).toEqual([]);
  });
});

describe("the subscription API", () => {
  test("one per token: POST replaces, GET shows, DELETE ends (then GET is 404); DELETE twice is fine", async () => {
    const erin = await user("erin");
    expect((await call("GET", "/api/v1/push/subscription", { token: erin.token })).status).toBe(404);
    const first = await subscribe(erin, "/erin/1", browserKeys(), undefined, false);
    expect(first.json).toMatchObject({ standard: false, policy: "all", alerts: { follow: false } });
    const second = await subscribe(erin, "/erin/2", browserKeys(), { alerts: { reblog: "true", poll: "1" } });
    expect(second.json.id).not.toBe(first.json.id);
    expect(second.json.alerts).toMatchObject({ reblog: true, poll: true, follow: false });
    const shown = await call("GET", "/api/v1/push/subscription", { token: erin.token });
    expect(shown.json).toEqual(second.json);
    expect(Number((await context.sql`select count(*) as n from web_push_subscriptions where account_id = ${erin.id}`)[0]!.n)).toBe(1);
    expect((await call("DELETE", "/api/v1/push/subscription", { token: erin.token })).json).toEqual({});
    expect((await call("DELETE", "/api/v1/push/subscription", { token: erin.token })).status).toBe(200);
    expect((await call("GET", "/api/v1/push/subscription", { token: erin.token })).status).toBe(404);
    expect((await call("PUT", "/api/v1/push/subscription", { token: erin.token, json: { data: { policy: "all" } } })).status).toBe(404);
  });

  test("bad keys, endpoints and values → 422; no push scope → 403; no token → 401", async () => {
    const frank = await user("frank");
    const good = browserKeys();
    const post = (subscription: unknown, data?: unknown) => call("POST", "/api/v1/push/subscription", { token: frank.token, json: { subscription, data } });
    const auth = good.auth.toString("base64url");
    for (const response of [
      await post({ endpoint: `${origin()}/f`, keys: { p256dh: Buffer.alloc(65, 4).toString("base64url"), auth } }),
      await post({ endpoint: `${origin()}/f`, keys: { p256dh: "not base64!", auth } }),
      await post({ endpoint: `${origin()}/f`, keys: { p256dh: good.p256dh, auth: randomBytes(8).toString("base64url") } }),
      await post({ endpoint: "javascript:alert(1)", keys: { p256dh: good.p256dh, auth } }),
      await post({ endpoint: `${origin()}/${"x".repeat(3000)}`, keys: { p256dh: good.p256dh, auth } }),
      await post({ endpoint: `${origin()}/f`, keys: { p256dh: good.p256dh, auth } }, { policy: "everyone" }),
      await post({ endpoint: `${origin()}/f`, keys: { p256dh: good.p256dh, auth } }, { alerts: { follow: "perhaps" } }),
    ]) {
      expect([response.status, response.json]).toEqual([422, { error: expect.any(String) }]);
    }
    // A missing parameter is 400, as Rails' ParameterMissing.
    expect((await post({ endpoint: `${origin()}/f` })).status).toBe(400);
    expect((await call("GET", "/api/v1/push/subscription", { token: frank.token })).status).toBe(404);
    const readOnly = await user("readonly", "read write");
    expect((await subscribe(readOnly, "/r", good, undefined)).status).toBe(403);
    expect((await call("GET", "/api/v1/push/subscription")).status).toBe(401);
  });

  test("masto.js creates, fetches, updates and removes a subscription", async () => {
    const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const gina = await user("gina");
      const client = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: gina.token });
      const keys = browserKeys();
      const created = await client.v1.push.subscription.create({
        subscription: { endpoint: `${origin()}/gina`, keys: { p256dh: keys.p256dh, auth: keys.auth.toString("base64url") } },
        data: { alerts: { mention: true } },
        policy: "followed",
      });
      expect(created).toMatchObject({ endpoint: `${origin()}/gina`, serverKey: VAPID.publicKey, alerts: { mention: true, follow: false } });
      expect((await client.v1.push.subscription.fetch()).id).toBe(created.id);
      const updated = await client.v1.push.subscription.update({ data: { alerts: { follow: true } } });
      expect(updated.alerts).toMatchObject({ mention: true, follow: true });
      await client.v1.push.subscription.remove();
      expect(await client.v1.push.subscription.fetch().catch((e) => e.statusCode)).toBe(404);
    } finally {
      await web.stop(true);
    }
  });

  test("`woolly admin vapid generate` prints a matching key pair that the configuration accepts", async () => {
    const result = await runWoolly(["admin", "vapid", "generate"]);
    expect(result.code).toBe(0);
    const pairs = Object.fromEntries(result.stdout.trim().split("\n").map((line) => line.split("=") as [string, string]));
    expect(Object.keys(pairs).sort()).toEqual(["VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"]);
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(pairs.VAPID_PRIVATE_KEY!, "base64url"));
    expect(ecdh.getPublicKey().toString("base64url")).toBe(pairs.VAPID_PUBLIC_KEY!);
    expect(loadConfig({ ...process.env, ...pairs }).vapid).toEqual({ publicKey: pairs.VAPID_PUBLIC_KEY!, privateKey: pairs.VAPID_PRIVATE_KEY! });
  });

  test("/api/v2/instance shows the VAPID public key", async () => {
    const instance = await call("GET", "/api/v2/instance");
    expect(instance.json.configuration.vapid.public_key).toBe(VAPID.publicKey);
  });
});
