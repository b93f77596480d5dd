/**
 * Federation against an independent peer: a Fedify server (its own WebFinger, actors, key pairs, signatures
 * and inbox; test/helpers/fedify-peer.ts) runs inside the test on loopback, and our web app runs on another
 * loopback port with ALLOWED_PRIVATE_ADDRESSES=127.0.0.0/8,::1/128 — the explicit allowance for private peers.
 *
 * Shown: Fedify finds our user by WebFinger and reads our actor and key; we resolve Fedify's actor (a signed
 * GET that Fedify checks: its actors require a signature) and store it with its domain; Fedify's signed
 * activities reach our inbox, are queued on ingress and processed once by a real worker; unsigned, tampered,
 * stale, wrong-key, oversized and malformed requests are refused with Mastodon's status codes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signRequest } from "@fedify/fedify";
import { Create, Delete, Endpoints, Follow, Note, Person } from "@fedify/vocab";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { blockDomain, unblockDomain } from "../../src/features/federation/domain-blocks";
import { FetchFailed } from "../../src/features/federation/fetch";
import { activityKey, processActivity } from "../../src/features/federation/inbox";
import { processActivityJob } from "../../src/features/federation/jobs";
import { findRemoteByUri, resolveRemoteAccount } from "../../src/features/federation/remote-accounts";
import { signCavage } from "../../src/infra/http/signatures";
import { JobRegistry } from "../../src/infra/queues/registry";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
import { FAILURE_DAYS, isAvailable, trackFailure } from "../../src/features/federation/failure-tracker";

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let alice: LocalAccountRow;
let workers: RunningWorkers;

let fedify: FedifyPeer;
let peerBase: string;
type PeerUser = "bob" | "carol" | "dave" | "fed_alice";
let peerKeys: Record<PeerUser, CryptoKeyPair>;
/** keyIds of the signatures Fedify accepted on GETs of its actors. */
let signedFetches: string[];

async function pem(key: CryptoKey, kind: "pkcs8" | "spki"): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey(kind, key)).toString("base64");
  const label = kind === "pkcs8" ? "PRIVATE KEY" : "PUBLIC KEY";
  return `-----BEGIN ${label}-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

function peerContext() {
  return fedify.context();
}

beforeAll(async () => {
  // Our side: the port is known only once the server listens, and the configuration needs it.
  let app: ReturnType<typeof buildWebApp> | undefined;
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app!.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  context = await testContext({
    LOCAL_DOMAIN: `127.0.0.1:${ours.port}`,
    LOCAL_HTTPS: "false",
    ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128",
  });
  app = buildWebApp(context);
  alice = (
    await createLocalAccount(context.sql, context.config, { username: "fed_alice", email: "fed_alice@example.com", password: "correct horse battery", confirmed: true })
  ).account;
  workers = startWorkers({
    queues: ["ingress"],
    concurrency: 2,
    registry: new JobRegistry([processActivityJob]),
    context,
    connection: context.bullConnection,
    prefix: context.bullPrefix,
  });

  // The peer: Fedify with in-memory storage; its actors answer only signed GETs (authorized fetch).
  fedify = await startFedifyPeer({ users: ["bob", "carol", "dave", "fed_alice"] });
  peerBase = fedify.base;
  peerKeys = fedify.keys as Record<PeerUser, CryptoKeyPair>;
  signedFetches = fedify.signedFetches;
});

afterAll(async () => {
  await workers?.close(5000);
  ours?.stop(true);
  fedify?.close();
  await context?.close();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** A POST to our inbox signed by a peer user with our own signer (for requests Fedify would never send). */
function signedPost(user: PeerUser, body: string, options: { now?: Date; path?: string } = {}) {
  return fedify.postSigned(user, `${ourBase}${options.path ?? "/inbox"}`, body, { now: options.now });
}

function activityJson(actor: PeerUser, id: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${peerBase}/activities/${id}`,
    type: "Like",
    actor: `${peerBase}/users/${actor}`,
    object: `${alice.uri}/statuses/1`,
    ...extra,
  });
}

async function ingressJob(key: string) {
  return context.queues.queue("ingress").getJob(`ap-${key}`);
}

describe("the peer discovers us", () => {
  test("WebFinger by actor URL and by acct: handle", async () => {
    const descriptor = await peerContext().lookupWebFinger(new URL(alice.uri));
    expect(descriptor?.subject).toBe(`acct:fed_alice@127.0.0.1:${ours.port}`);
    expect(descriptor?.links?.find((l) => l.rel === "self")).toMatchObject({ type: "application/activity+json", href: alice.uri });
    // Fedify asks https:// for acct: handles; the same document over our plain-http test port:
    const response = await fetch(`${ourBase}/.well-known/webfinger?resource=acct:FED_ALICE@127.0.0.1:${ours.port}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/jrd+json");
    expect(((await response.json()) as { aliases: string[] }).aliases).toContain(alice.uri);
  });

  test("lookupObject gets our Person with our public key", async () => {
    const person = await peerContext().lookupObject(alice.uri);
    expect(person).toBeInstanceOf(Person);
    const actor = person as Person;
    expect(actor.id?.href).toBe(alice.uri);
    expect(actor.preferredUsername?.toString()).toBe("fed_alice");
    expect(actor.inboxId?.href).toBe(`${alice.uri}/inbox`);
    expect(actor.endpoints?.sharedInbox?.href).toBe(`${ourBase}/inbox`);
    const key = await actor.getPublicKey();
    expect(key?.id?.href).toBe(`${alice.uri}#main-key`);
    expect(await pem(key!.publicKey!, "spki")).toBe(alice.public_key);
  });
});

describe("we resolve the peer", () => {
  test("resolveRemoteAccount stores the Fedify actor with its domain, via a signed GET Fedify accepts", async () => {
    const handle = `bob@${fedify.host}`;
    const account = await resolveRemoteAccount(context, handle);
    expect(account).toBeDefined();
    expect(account!.domain).toBe(`${fedify.host}`);
    expect(account!.username).toBe("bob");
    expect(account!.uri).toBe(`${peerBase}/users/bob`);
    expect(account!.inbox_url).toBe(`${peerBase}/users/bob/inbox`);
    expect(account!.shared_inbox_url).toBe(`${peerBase}/inbox`);
    expect(account!.public_key).toBe(await pem(peerKeys.bob.publicKey, "spki"));
    // Remote HTML is kept as text only.
    expect(account!.display_name).toBe("Peer bob");
    expect(account!.note).toBe("Hello from bob\n\nsecond & last");
    // The actor answers signed GETs only: ours was signed by the instance actor, and Fedify verified it.
    expect(signedFetches).toContain(`${ourBase}/actor#main-key`);
  });

  test("the lookup API resolves the remote handle; a second alice elsewhere stays apart", async () => {
    const response = await fetch(`${ourBase}/api/v1/accounts/lookup?acct=${encodeURIComponent(`carol@${fedify.host}`)}`);
    expect(response.status).toBe(200);
    const entity = (await response.json()) as { acct: string; username: string; url: string };
    expect(entity.acct).toBe(`carol@${fedify.host}`);
    expect(entity.url).toBe(`${peerBase}/@carol`);
    const unknown = await fetch(`${ourBase}/api/v1/accounts/lookup?acct=${encodeURIComponent(`nobody@${fedify.host}`)}`);
    expect(unknown.status).toBe(404);
    const local = await fetch(`${ourBase}/api/v1/accounts/lookup?acct=fed_alice`);
    expect(((await local.json()) as { id: string }).id).toBe(alice.id);
    // The peer has a fed_alice too: she is another person, stored apart with her domain.
    const other = await fetch(`${ourBase}/api/v1/accounts/lookup?acct=${encodeURIComponent(`fed_alice@${fedify.host}`)}`);
    const otherEntity = (await other.json()) as { id: string; acct: string };
    expect(otherEntity.id).not.toBe(alice.id);
    expect(otherEntity.acct).toBe(`fed_alice@${fedify.host}`);
    const [count] = await context.sql<{ n: number }[]>`select count(*)::int as n from accounts where lower(username) = 'fed_alice'`;
    expect(count!.n).toBe(2);
  });
});

describe("the peer delivers to our inbox", () => {
  test("a Fedify Follow is accepted (202), queued on ingress and processed by the worker", async () => {
    const bob = (await findRemoteByUri(context.sql, `${peerBase}/users/bob`))!;
    // Make our copy stale so the worker's refresh is visible.
    await context.sql`update accounts set updated_at = now() - interval '2 days' where id = ${bob.id}`;
    const followId = `${peerBase}/follows/1`;
    const ctx = peerContext();
    await ctx.sendActivity(
      { identifier: "bob" },
      { id: new URL(alice.uri), inboxId: new URL(`${alice.uri}/inbox`) },
      new Follow({ id: new URL(followId), actor: ctx.getActorUri("bob"), object: new URL(alice.uri) }),
      { immediate: true },
    );
    const key = activityKey({ id: followId }, "");
    const job = await waitFor("the ingress job", () => ingressJob(key));
    expect(job.name).toBe("activitypub.process");
    await waitFor("the job to complete", async () => (await ingressJob(key))?.finishedOn);
    const refreshed = (await findRemoteByUri(context.sql, bob.uri))!;
    expect(Date.now() - refreshed.updated_at.getTime()).toBeLessThan(60_000);
  });

  test("a Fedify Create(Note) on the shared inbox is accepted", async () => {
    const ctx = peerContext();
    const createId = `${peerBase}/notes/1/activity`;
    await ctx.sendActivity(
      { identifier: "bob" },
      { id: new URL(alice.uri), inboxId: new URL(`${alice.uri}/inbox`), endpoints: new Endpoints({ sharedInbox: new URL(`${ourBase}/inbox`) }) },
      new Create({
        id: new URL(createId),
        actor: ctx.getActorUri("bob"),
        object: new Note({ id: new URL(`${peerBase}/notes/1`), content: "hello", attribution: ctx.getActorUri("bob") }),
      }),
      { immediate: true, preferSharedInbox: true },
    );
    await waitFor("the job to complete", async () => (await ingressJob(activityKey({ id: createId }, "")))?.finishedOn);
  });

  test("the same activity id twice is processed once", async () => {
    const body = activityJson("bob", "like-twice");
    const key = activityKey(JSON.parse(body), body);
    expect((await signedPost("bob", body)).status).toBe(202);
    expect((await signedPost("bob", body)).status).toBe(202);
    await waitFor("the job to complete", async () => (await ingressJob(key))?.finishedOn);
    expect((await signedPost("bob", body)).status).toBe(202);
    const jobs = await context.queues.queue("ingress").getJobs(["completed", "waiting", "active", "delayed", "failed"]);
    expect(jobs.filter((j) => j.data?.key === key)).toHaveLength(1);
    // And a copy that got past the queue (its job record long gone) is a no-op in the handler.
    expect((await processActivity(context, JSON.parse(body), key)).outcome).toBe("duplicate");
  });

  test("Delete of an actor removes that remote account", async () => {
    await resolveRemoteAccount(context, `dave@${fedify.host}`);
    const daveUri = `${peerBase}/users/dave`;
    expect(await findRemoteByUri(context.sql, daveUri)).toBeDefined();
    const ctx = peerContext();
    const deleteId = `${daveUri}#delete`;
    await ctx.sendActivity(
      { identifier: "dave" },
      { id: new URL(alice.uri), inboxId: new URL(`${alice.uri}/inbox`) },
      new Delete({ id: new URL(deleteId), actor: new URL(daveUri), object: new URL(daveUri) }),
      { immediate: true },
    );
    await waitFor("dave to be gone", async () => (await findRemoteByUri(context.sql, daveUri)) === undefined);
  });
});

describe("processing failures", () => {
  test("a permanently bad activity ends in the failed set with its reason, without retries", async () => {
    const nobody = `${peerBase}/users/nobody_at_all`;
    const activity = { id: `${nobody}#update`, type: "Update", actor: nobody, object: { id: nobody, type: "Person" } };
    const key = activityKey(activity, "");
    await context.queues.enqueue(processActivityJob, { key, activity, inbox: "/inbox" }, { jobId: `ap-${key}` });
    const job = await waitFor("the job to fail", async () => {
      const found = await ingressJob(key);
      return found?.failedReason ? found : undefined;
    });
    expect(job.failedReason).toContain("answered 404");
    expect(job.attemptsMade).toBe(1);
  });
});

describe("skipped at the door", () => {
  test("an unknown actor's Delete of itself → 202 without a fetch or a job", async () => {
    const ghost = `${peerBase}/users/ghost`;
    const body = JSON.stringify({ id: `${ghost}#delete`, type: "Delete", actor: ghost, object: ghost });
    // Signed with a key we could never fetch (ghost does not exist on the peer): no fetch is attempted.
    const url = new URL(`${ourBase}/inbox`);
    const headers: Record<string, string> = { "content-type": "application/activity+json", host: url.host };
    Object.assign(headers, signCavage({ method: "POST", url, headers, body, keyId: `${ghost}#main-key`, privateKeyPem: await pem(peerKeys.bob.privateKey, "pkcs8") }));
    expect((await fetch(url, { method: "POST", headers, body })).status).toBe(202);
    expect(await ingressJob(activityKey(JSON.parse(body), body))).toBeUndefined();
  });

  test("with the key cache gone, the stored key of `<actor>#main-key` still verifies", async () => {
    const keys = await context.redis.keys(`${context.config.redis.namespace}:fed:key-owner:*`);
    if (keys.length) await context.redis.del(...keys);
    const before = signedFetches.length;
    expect((await signedPost("bob", activityJson("bob", "after-flush"))).status).toBe(202);
    // Bob's actor was not fetched again for it.
    expect(signedFetches.length).toBe(before);
  });
});

describe("refused at the door", () => {
  test("unsigned → 401", async () => {
    const response = await fetch(`${ourBase}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body: activityJson("bob", "unsigned") });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toMatch(/not signed/);
  });

  test("a tampered body → 401", async () => {
    const body = activityJson("bob", "tampered");
    const signed = await signRequest(
      new Request(`${ourBase}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body }),
      peerKeys.bob.privateKey,
      new URL(`${peerBase}/users/bob#main-key`),
      { spec: "draft-cavage-http-signatures-12" },
    );
    const headers = new Headers(signed.headers);
    const tampered = body.replace("Like", "Announce");
    headers.set("content-length", String(Buffer.byteLength(tampered)));
    const response = await fetch(`${ourBase}/inbox`, { method: "POST", headers, body: tampered });
    expect(response.status).toBe(401);
    // The untampered request passes.
    expect((await fetch(`${ourBase}/inbox`, { method: "POST", headers: signed.headers, body })).status).toBe(202);
  });

  test("an RFC 9421 signature from Fedify is accepted, and refused when tampered", async () => {
    const body = activityJson("bob", "rfc9421");
    const signed = await signRequest(
      new Request(`${ourBase}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body }),
      peerKeys.bob.privateKey,
      new URL(`${peerBase}/users/bob#main-key`),
      { spec: "rfc9421" },
    );
    expect(signed.headers.get("signature-input")).toBeTruthy();
    expect((await fetch(`${ourBase}/inbox`, { method: "POST", headers: signed.headers, body: body.replace("Like", "Block") })).status).toBe(401);
    expect((await fetch(`${ourBase}/inbox`, { method: "POST", headers: signed.headers, body })).status).toBe(202);
  });

  test("a stale Date → 401", async () => {
    const response = await signedPost("bob", activityJson("bob", "stale"), { now: new Date(Date.now() - 3 * 3600_000) });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toMatch(/expired/);
  });

  test("a key of another actor → 401", async () => {
    // Bob signs an activity that claims to be Carol's.
    const response = await signedPost("bob", activityJson("carol", "impersonation"));
    expect(response.status).toBe(401);
    // Carol's key claimed for Bob's keyId: the signature does not verify even after re-fetching Bob's key.
    const body = activityJson("bob", "wrong-key");
    const url = new URL(`${ourBase}/inbox`);
    const headers: Record<string, string> = { "content-type": "application/activity+json", host: url.host };
    Object.assign(headers, signCavage({ method: "POST", url, headers, body, keyId: `${peerBase}/users/bob#main-key`, privateKeyPem: await pem(peerKeys.carol.privateKey, "pkcs8") }));
    expect((await fetch(url, { method: "POST", headers, body })).status).toBe(401);
  });

  test("a 2 MB body → 413, declared or streamed", async () => {
    const big = JSON.stringify({ actor: `${peerBase}/users/bob`, padding: "x".repeat(2 * 1024 * 1024) });
    expect((await fetch(`${ourBase}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body: big })).status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 32; i++) controller.enqueue(new TextEncoder().encode("x".repeat(64 * 1024)));
        controller.close();
      },
    });
    const chunked = await fetch(`${ourBase}/users/fed_alice/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body: stream });
    expect(chunked.status).toBe(413);
  });

  test("malformed JSON → 400; no actor → 400; unknown inbox owner → 404", async () => {
    for (const body of ["{not json", "[]", '"text"', JSON.stringify({ type: "Like" }), JSON.stringify({ actor: "javascript:alert(1)" })]) {
      const response = await fetch(`${ourBase}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body });
      expect(response.status).toBe(400);
    }
    const response = await signedPost("bob", activityJson("bob", "nobody"), { path: "/users/nobody_here/inbox" });
    expect(response.status).toBe(404);
  });

  test("a personal inbox checks the signed path", async () => {
    // Signed for /inbox but sent to /users/fed_alice/inbox: the (request-target) does not match.
    const body = activityJson("bob", "wrong-path");
    const url = new URL(`${ourBase}/inbox`);
    const headers: Record<string, string> = { "content-type": "application/activity+json", host: url.host };
    Object.assign(headers, signCavage({ method: "POST", url, headers, body, keyId: `${peerBase}/users/bob#main-key`, privateKeyPem: await pem(peerKeys.bob.privateKey, "pkcs8") }));
    expect((await fetch(`${ourBase}/users/fed_alice/inbox`, { method: "POST", headers, body })).status).toBe(401);
  });
});

describe("domain blocks", () => {
  test("a suspended domain: its activities are dropped with 202, and we fetch nothing from it", async () => {
    const domain = `${fedify.host}`;
    await blockDomain(context.sql, { domain, severity: "suspend" });
    try {
      const body = activityJson("bob", "from-suspended");
      const response = await signedPost("bob", body);
      expect(response.status).toBe(202);
      await Bun.sleep(100);
      expect(await ingressJob(activityKey(JSON.parse(body), body))).toBeUndefined();
      const error = await resolveRemoteAccount(context, `nobody_yet@${domain}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FetchFailed);
      expect((error as Error).message).toMatch(/blocked/);
    } finally {
      await unblockDomain(context.sql, domain);
    }
  });
});


describe("the peer helper itself", () => {
  test("records the signed activities its inboxes receive, raw JSON included, and refuses unsigned ones", async () => {
    // The sender is a second peer with open actors: two authorized-fetch peers cannot read each other's keys.
    const other = await startFedifyPeer({ users: ["zed"], authorizedFetch: false });
    const id = `${other.base}/activities/self-check`;
    const waiting = fedify.waitForActivity((r) => r.json.id === id);
    try {
      await other.send(
        "zed",
        { uri: fedify.actorUri("carol"), inbox: `${peerBase}/users/carol/inbox` },
        new Follow({ id: new URL(id), actor: new URL(other.actorUri("zed")), object: new URL(fedify.actorUri("carol")) }),
      );
    } finally {
      setTimeout(() => other.close(), 1000);
    }
    const got = await waiting;
    expect(got.type).toBe("Follow");
    expect(got.recipient).toBe("carol");
    expect(got.json.object).toBe(fedify.actorUri("carol"));
    const unsigned = await fetch(`${peerBase}/users/carol/inbox`, {
      method: "POST",
      headers: { "content-type": "application/activity+json" },
      body: JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: `${id}-2`, type: "Follow", actor: other.actorUri("zed"), object: fedify.actorUri("carol") }),
    });
    expect(unsigned.status).toBe(401);
    expect(fedify.received.some((r) => r.json.id === `${id}-2`)).toBe(false);
  });
});

describe("a server marked unavailable", () => {
  test("is available again once it sends us a signed activity", async () => {
    const inbox = `${peerBase}/inbox`;
    for (let day = 1; day <= FAILURE_DAYS; day++) await trackFailure(context, inbox, new Date(Date.UTC(2026, 0, day)));
    expect(await isAvailable(context, inbox)).toBe(false);
    const response = await signedPost("bob", activityJson("bob", `alive-${Date.now()}`));
    expect(response.status).toBe(202);
    expect(await isAvailable(context, inbox)).toBe(true);
  });
});
