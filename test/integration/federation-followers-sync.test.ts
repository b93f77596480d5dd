/**
 * Followers-collection synchronisation (FEP-8fcf, Mastodon's Collection-Synchronization), both ways, against
 * an independent Fedify peer on loopback:
 * - our followers-only deliveries carry the header with the digest Fedify's own `digest()` computes for the
 *   peer's followers of ours, and /users/:name/followers_synchronization answers a signed GET from the peer
 *   with exactly those followers (and refuses unsigned ones);
 * - a delivery from the peer whose digest disagrees with ours makes us read the peer's list and mend our
 *   side: a follow the peer no longer lists ends (an Undo goes back), a pending request it lists becomes a
 *   follow, a follow it lists that we never had gets an Undo(Follow); a matching digest reads nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildCollectionSynchronizationHeader, digest as fedifyDigest } from "@fedify/fedify";
import { buildWebApp } from "../../src/api/app";
import { followersDigest, parseSynchronizationHeader } from "../../src/features/federation/followers-digest";
import { resolveRemoteAccount } from "../../src/features/federation/remote-accounts";
import type { AccountRow } from "../../src/features/federation/remote-accounts";
import * as graph from "../../src/features/graph/service";
import { postStatus } from "../../src/features/statuses/service";
import { findLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { jobRegistry } from "../../src/jobs";
import { signCavage } from "../../src/infra/http/signatures";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let workers: RunningWorkers;
let peer: FedifyPeer;
let alice: LocalAccountRow;
let bob: AccountRow;
let carol: AccountRow;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

beforeAll(async () => {
  let app: ReturnType<typeof buildWebApp> | undefined;
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app!.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  context = await testContext({ LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" });
  app = buildWebApp(context);
  await makeTestUser(context, "fsync_alice");
  alice = await findLocalAccount(context.sql, "fsync_alice");
  workers = startWorkers({ queues: ["push", "ingress", "pull", "default"], concurrency: 8, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  peer = await startFedifyPeer({ users: ["fsync_bob", "fsync_carol"] });
  bob = (await resolveRemoteAccount(context, `fsync_bob@${peer.host}`))!;
  carol = (await resolveRemoteAccount(context, `fsync_carol@${peer.host}`))!;
});

afterAll(async () => {
  await workers?.close(5000);
  ours?.stop(true);
  peer?.close();
  await context?.close();
});

describe("the digest", () => {
  test("is FEP-8fcf's: the same as Fedify's, order and duplicates aside; zeros for nobody", async () => {
    const uris = ["https://a.example/users/one", "https://a.example/users/two", "https://a.example/users/three"];
    expect(followersDigest(uris)).toBe(hex(await fedifyDigest(uris)));
    expect(followersDigest([...uris].reverse().concat(uris[0]!))).toBe(followersDigest(uris));
    expect(followersDigest([])).toBe("0".repeat(64));
  });

  test("the header parses as Fedify writes it; malformed ones are ignored", async () => {
    const header = await buildCollectionSynchronizationHeader("https://a.example/users/one/followers", ["https://b.example/users/x"]);
    expect(parseSynchronizationHeader(header)).toMatchObject({ collectionId: "https://a.example/users/one/followers", digest: followersDigest(["https://b.example/users/x"]) });
    expect(parseSynchronizationHeader('collectionId="x", url="y", digest="nothex"')).toBeUndefined();
    expect(parseSynchronizationHeader("x".repeat(5000))).toBeUndefined();
  });
});

describe("sending", () => {
  test("a followers-only post reaches the peer with the digest of its followers of ours; a public one without", async () => {
    await graph.follow(context, bob, alice, { uri: `${peer.base}/follows/fsync-1` });
    await graph.follow(context, carol, alice, { uri: `${peer.base}/follows/fsync-2` });
    const { statusId } = await postStatus(context, alice, { status: "for followers only", visibility: "private" });
    const received = await peer.waitForActivity((r) => r.type === "Create" && String((r.json.object as { id?: string })?.id).endsWith(statusId));
    const header = received.headers?.get("collection-synchronization");
    expect(header).toBeString();
    const parsed = parseSynchronizationHeader(header!)!;
    expect(parsed.collectionId).toBe(`${alice.uri}/followers`);
    expect(parsed.url).toBe(`${alice.uri}/followers_synchronization`);
    expect(parsed.digest).toBe(hex(await fedifyDigest([bob.uri, carol.uri])));

    const { statusId: publicId } = await postStatus(context, alice, { status: "for everyone", visibility: "public" });
    const open = await peer.waitForActivity((r) => r.type === "Create" && String((r.json.object as { id?: string })?.id).endsWith(publicId));
    expect(open.headers?.get("collection-synchronization")).toBeNull();
  });

  test("the partial collection answers a signed GET with the signer's server's followers only; unsigned → 401", async () => {
    const url = new URL(`${alice.uri}/followers_synchronization`);
    expect((await fetch(url, { headers: { accept: "application/activity+json" } })).status).toBe(401);
    const headers: Record<string, string> = { accept: "application/activity+json", host: url.host };
    Object.assign(headers, signCavage({ method: "GET", url, headers, keyId: peer.keyId("fsync_bob"), privateKeyPem: await peer.pem("fsync_bob", "private") }));
    const response = await fetch(url, { headers });
    expect(response.status).toBe(200);
    const collection = (await response.json()) as { type: string; orderedItems: string[]; id: string };
    expect(collection.type).toBe("OrderedCollection");
    expect(collection.orderedItems.sort()).toEqual([bob.uri, carol.uri].sort());
    expect(collection.id).toBe(url.href);
  });
});

describe("receiving", () => {
  let dan: LocalAccountRow;
  let erin: LocalAccountRow;
  let fay: LocalAccountRow;

  beforeAll(async () => {
    for (const name of ["fsync_dan", "fsync_erin", "fsync_fay"]) await makeTestUser(context, name);
    [dan, erin, fay] = (await Promise.all(["fsync_dan", "fsync_erin", "fsync_fay"].map((n) => findLocalAccount(context.sql, n)))) as [LocalAccountRow, LocalAccountRow, LocalAccountRow];
  });

  const followsBob = async (id: string) => (await context.sql`select 1 from follows where account_id = ${id} and target_account_id = ${bob.id}`).length === 1;

  async function deliverWithHeader(listed: string[], note: string, collectionId = `${bob.uri}/followers`) {
    // The peer serves its list of our accounts that follow bob, and says its digest on a delivery.
    peer.addObject("/users/fsync_bob/followers_sync", { "@context": "https://www.w3.org/ns/activitystreams", id: `${peer.base}/users/fsync_bob/followers_sync`, type: "OrderedCollection", orderedItems: listed });
    const header = `collectionId="${collectionId}", url="${peer.base}/users/fsync_bob/followers_sync", digest="${hex(await fedifyDigest(listed))}"`;
    const activity = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${peer.base}/activities/${note}`,
      type: "Create",
      actor: bob.uri,
      to: [`${bob.uri}/followers`],
      object: { id: `${peer.base}/notes/${note}`, type: "Note", attributedTo: bob.uri, to: [`${bob.uri}/followers`], content: `<p>${note}</p>`, published: new Date().toISOString() },
    };
    const response = await peer.postSigned("fsync_bob", `${ourBase}/inbox`, activity, { headers: { "Collection-Synchronization": header } });
    expect(response.status).toBe(202);
  }

  test("a digest that disagrees: the peer's list is read and our side mended", async () => {
    // Ours: dan and erin follow bob. Theirs: erin (still), fay (a request we never saw accepted), and alice
    // (who never followed at all).
    await graph.follow(context, dan, bob, {});
    await graph.follow(context, erin, bob, {});
    await graph.follow(context, fay, bob, {});
    await context.sql`insert into follows (account_id, target_account_id) select account_id, target_account_id from follow_requests where account_id = ${erin.id} and target_account_id = ${bob.id} on conflict do nothing`;
    await context.sql`delete from follow_requests where account_id = ${erin.id}`;
    await context.sql`insert into follows (account_id, target_account_id) select account_id, target_account_id from follow_requests where account_id = ${dan.id} and target_account_id = ${bob.id} on conflict do nothing`;
    await context.sql`delete from follow_requests where account_id = ${dan.id}`;
    expect(await followsBob(dan.id)).toBe(true);
    expect(await followsBob(fay.id)).toBe(false);

    await deliverWithHeader([erin.uri, fay.uri, alice.uri], "sync-1");
    for (let i = 0; i < 100 && ((await followsBob(dan.id)) || !(await followsBob(fay.id))); i++) await Bun.sleep(50);
    expect(await followsBob(dan.id)).toBe(false);
    expect(await followsBob(erin.id)).toBe(true);
    expect(await followsBob(fay.id)).toBe(true);
    expect(await followsBob(alice.id)).toBe(false);
    // The peer hears both corrections: dan's follow undone, and alice's follow it believed in undone.
    const undoes = async () =>
      peer.received.filter((r) => r.type === "Undo").map((r) => (r.json.object as { actor?: string; object?: string; type?: string }) ?? {});
    for (let i = 0; i < 100 && (await undoes()).filter((o) => o.object === bob.uri).length < 2; i++) await Bun.sleep(50);
    const undone = (await undoes()).filter((o) => o.type === "Follow" && o.object === bob.uri).map((o) => o.actor);
    expect(undone).toContain(dan.uri);
    expect(undone).toContain(alice.uri);
  });

  test("a digest that agrees reads nothing; a header naming another collection is ignored", async () => {
    const fetchesBefore = peer.signedFetches.length;
    await deliverWithHeader([erin.uri, fay.uri], "sync-2");
    // Bob cannot speak for carol's followers: a disagreeing digest for her collection reads nothing either.
    await deliverWithHeader([dan.uri], "sync-3", `${carol.uri}/followers`);
    await Bun.sleep(500);
    expect(peer.signedFetches.length).toBe(fetchesBefore);
    expect(await followsBob(erin.id)).toBe(true);
    expect(await followsBob(fay.id)).toBe(true);
  });
});
