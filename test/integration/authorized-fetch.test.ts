/**
 * The federation doors that depend on who is asking. AUTHORIZED_FETCH=true: ActivityPub GETs of actors, statuses and collections need a valid HTTP signature
 * from a server that is not suspended; HTML pages and the instance actor stay public. The signer is a real
 * Fedify peer on loopback (its key is fetched by us with the instance actor's signature, which the peer
 * checks by fetching our instance actor unsigned — the exemption Mastodon makes too).
 * LIMITED_FEDERATION_MODE=true: only allow-listed domains get in (inbox), get our objects (signed GETs), or
 * are contacted by us (fetches, deliveries).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { allowDomain, blockDomain } from "../../src/features/federation/domain-blocks";
import { activityKey } from "../../src/features/federation/inbox";
import { resolveRemoteAccount } from "../../src/features/federation/remote-accounts";
import { postStatus } from "../../src/features/statuses/service";
import { signCavage } from "../../src/infra/http/signatures";
import { findLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let peer: FedifyPeer;
let blockedPeer: FedifyPeer;
let author: LocalAccountRow;
let statusUrl: string;

const AP = "application/activity+json";

beforeAll(async () => {
  let app: ReturnType<typeof buildWebApp> | undefined;
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app!.handle(request) });
  base = `http://127.0.0.1:${server.port}`;
  context = await testContext({
    LOCAL_DOMAIN: `127.0.0.1:${server.port}`,
    LOCAL_HTTPS: "false",
    ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128",
    AUTHORIZED_FETCH: "true",
  });
  app = buildWebApp(context);
  const username = `af_author_${Date.now().toString(36)}`;
  await makeTestUser(context, username);
  author = await findLocalAccount(context.sql, username);
  const { statusId } = await postStatus(context, author, { status: "secure mode hello", visibility: "public" });
  statusUrl = `${base}/users/${username}/statuses/${statusId}`;
  peer = await startFedifyPeer({ users: ["af_friend"] });
  blockedPeer = await startFedifyPeer({ users: ["af_foe"] });
  await blockDomain(context.sql, { domain: blockedPeer.host, severity: "suspend" });
});

afterAll(async () => {
  peer?.close();
  blockedPeer?.close();
  server?.stop(true);
  await context?.close();
});

async function signedGet(from: FedifyPeer, user: string, url: string, accept = AP): Promise<Response> {
  const target = new URL(url);
  const headers: Record<string, string> = { accept, host: target.host };
  Object.assign(headers, signCavage({ method: "GET", url: target, headers, keyId: from.keyId(user), privateKeyPem: await from.pem(user, "private") }));
  return fetch(target, { headers });
}

describe("AUTHORIZED_FETCH", () => {
  test("unsigned ActivityPub GETs of a status, an actor and a collection → 401", async () => {
    for (const url of [statusUrl, `${base}/users/${author.username}`, `${base}/users/${author.username}/outbox`, `${base}/users/${author.username}/followers`]) {
      const response = await fetch(url, { headers: { accept: AP } });
      expect(response.status, url).toBe(401);
      expect(((await response.json()) as { error: string }).error).toBeString();
    }
  });

  test("a GET signed by a known server gets the Note, private to it", async () => {
    const response = await signedGet(peer, "af_friend", statusUrl);
    expect(response.status).toBe(200);
    const note = (await response.json()) as { type: string; content: string };
    expect(note.type).toBe("Note");
    expect(note.content).toContain("secure mode hello");
    expect(response.headers.get("vary")).toContain("Signature");
    expect(response.headers.get("cache-control")).toContain("private");
  });

  test("a signature by a suspended server, or a tampered one → 401", async () => {
    expect((await signedGet(blockedPeer, "af_foe", statusUrl)).status).toBe(401);
    const target = new URL(statusUrl);
    const headers: Record<string, string> = { accept: AP, host: target.host };
    Object.assign(headers, signCavage({ method: "GET", url: new URL(`${statusUrl}9`), headers, keyId: peer.keyId("af_friend"), privateKeyPem: await peer.pem("af_friend", "private") }));
    expect((await fetch(target, { headers })).status).toBe(401);
  });

  test("people still get the HTML pages, and the instance actor stays readable unsigned", async () => {
    const page = await fetch(statusUrl, { headers: { accept: "text/html" }, redirect: "manual" });
    expect([200, 301, 302]).toContain(page.status);
    const profile = await fetch(`${base}/@${author.username}`, { headers: { accept: "text/html" } });
    expect(profile.status).toBe(200);
    const instanceActor = await fetch(`${base}/actor`, { headers: { accept: AP } });
    expect(instanceActor.status).toBe(200);
  });
});

describe("LIMITED_FEDERATION_MODE", () => {
  let limited: TestContext;
  let limitedServer: ReturnType<typeof Bun.serve>;
  let limitedBase: string;
  let note: string;

  beforeAll(async () => {
    let app: ReturnType<typeof buildWebApp> | undefined;
    limitedServer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app!.handle(request) });
    limitedBase = `http://127.0.0.1:${limitedServer.port}`;
    limited = await testContext({
      LOCAL_DOMAIN: `127.0.0.1:${limitedServer.port}`,
      LOCAL_HTTPS: "false",
      ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128",
      LIMITED_FEDERATION_MODE: "true",
      REDIS_NAMESPACE: `${process.env.REDIS_NAMESPACE}_limited`,
    });
    app = buildWebApp(limited);
    const username = `af_limited_${Date.now().toString(36)}`;
    await makeTestUser(limited, username);
    const account = await findLocalAccount(limited.sql, username);
    const { statusId } = await postStatus(limited, account, { status: "members only", visibility: "public" });
    note = `${limitedBase}/users/${username}/statuses/${statusId}`;
    await allowDomain(limited.sql, peer.host);
  });

  afterAll(async () => {
    limitedServer?.stop(true);
    await limited?.close();
  });

  test("implies AUTHORIZED_FETCH; an allowed server reads, another is refused", async () => {
    expect(limited.config.authorizedFetch).toBe(true);
    expect((await fetch(note, { headers: { accept: AP } })).status).toBe(401);
    expect((await signedGet(peer, "af_friend", note)).status).toBe(200);
    // blockedPeer is not suspended on this instance: refused only for not being on the allow-list.
    expect((await signedGet(blockedPeer, "af_foe", note)).status).toBe(401);
  });

  test("the inbox queues an allowed server's activity and drops another's with 202", async () => {
    const like = (from: FedifyPeer, user: string, id: string) => ({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${from.base}/activities/${id}`,
      type: "Like",
      actor: from.actorUri(user),
      object: note,
    });
    const allowed = like(peer, "af_friend", "limited-like-1");
    const refused = like(blockedPeer, "af_foe", "limited-like-2");
    expect((await peer.postSigned("af_friend", `${limitedBase}/inbox`, allowed)).status).toBe(202);
    expect((await blockedPeer.postSigned("af_foe", `${limitedBase}/inbox`, refused)).status).toBe(202);
    const ingress = limited.queues.queue("ingress");
    expect(await ingress.getJob(`ap-${activityKey(allowed, "")}`)).toBeDefined();
    expect(await ingress.getJob(`ap-${activityKey(refused, "")}`)).toBeUndefined();
  });

  test("we never contact a server off the allow-list", async () => {
    const before = blockedPeer.signedFetches.length;
    // Refused by the outbound client's domain check, before any connection (the message names the host).
    await expect(resolveRemoteAccount(limited, `af_foe@${blockedPeer.host}`)).rejects.toThrow(`${blockedPeer.host} is blocked`);
    expect(blockedPeer.signedFetches.length).toBe(before);
    expect(await resolveRemoteAccount(limited, `af_friend@${peer.host}`)).toBeDefined();
  });
});
