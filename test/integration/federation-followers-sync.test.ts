/**
 * Followers-collection synchronisation (FEP-8fcf, Mastodon's Collection-Synchronization), both ways, against
 * an independent Fedify peer on loopback:
 * - our followers-only deliveries carry the header with the digest Fedify's own `digest()` computes for the
 *   peer's followers of ours, and /users/:name/followers_synchronization answers a signed GET from the peer
 *   with exactly those followers (and refuses unsigned ones);
 * - a delivery from the peer whose digest disagrees with ours makes us read the peer's list and mend our
 *   side: a follow the peer no longer lists ends (an Undo goes back), a pending request it lists becomes a
 *   follow, a follow it lists that we never had gets an Undo(Follow); a matching digest reads nothing;
 * - the header as Fedify builds it (its url carries `?base-url=`) and a paged collection are read page by
 *   page; a list we could not read to its end removes nobody; one actor's list is read at most once an hour;
 *   pages off the actor's server are not followed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildCollectionSynchronizationHeader, digest as fedifyDigest } from "@fedify/fedify";
import { buildWebApp } from "../../src/api/app";
import { followersDigest, parseSynchronizationHeader } from "../../src/features/federation/followers-digest";
import { synchronizeFollowers } from "../../src/features/federation/followers-sync";
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
  peer = await startFedifyPeer({ users: ["fsync_bob", "fsync_carol", "h1_hal", "h1_ivy"] });
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

    // Signed, but for nobody here: Mastodon's 404, as JSON.
    const missing = new URL(`${ourBase}/users/h1_nobody/followers_synchronization`);
    const missingHeaders: Record<string, string> = { accept: "application/activity+json", host: missing.host };
    Object.assign(missingHeaders, signCavage({ method: "GET", url: missing, headers: missingHeaders, keyId: peer.keyId("fsync_bob"), privateKeyPem: await peer.pem("fsync_bob", "private") }));
    const notFound = await fetch(missing, { headers: missingHeaders });
    expect(notFound.status).toBe(404);
    // A key that does not sign what it claims: 401 with Mastodon's error body.
    const forged = { ...headers, signature: headers.signature!.replace(/signature="[^"]+"/, 'signature="AAAA"') };
    const refused = await fetch(url, { headers: forged });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error?: string }).error).toBeString();
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

describe("receiving: paged lists, Fedify's header, limits", () => {
  let dan: LocalAccountRow;
  let erin: LocalAccountRow;
  let fay: LocalAccountRow;
  let gus: AccountRow;
  let hal: AccountRow;
  let ivy: AccountRow;
  // Fedify's draft-cavage verifier leaves the query out of (request-target), so it cannot verify our GET of
  // its `?base-url=` list, which we sign with the query as Mastodon does: this peer serves without a check.
  let openPeer: FedifyPeer;

  beforeAll(async () => {
    [dan, erin, fay] = (await Promise.all(["fsync_dan", "fsync_erin", "fsync_fay"].map((n) => findLocalAccount(context.sql, n)))) as [LocalAccountRow, LocalAccountRow, LocalAccountRow];
    openPeer = await startFedifyPeer({ users: ["h1_gus"], authorizedFetch: false });
    gus = (await resolveRemoteAccount(context, `h1_gus@${openPeer.host}`))!;
    hal = (await resolveRemoteAccount(context, `h1_hal@${peer.host}`))!;
    ivy = (await resolveRemoteAccount(context, `h1_ivy@${peer.host}`))!;
  });

  const follows = async (id: string, target: AccountRow) => (await context.sql`select 1 from follows where account_id = ${id} and target_account_id = ${target.id}`).length === 1;
  const requested = async (id: string, target: AccountRow) => (await context.sql`select 1 from follow_requests where account_id = ${id} and target_account_id = ${target.id}`).length === 1;

  /** A follow the remote accepted (the Accept itself is not what is tested here). */
  async function accepted(local: LocalAccountRow, target: AccountRow) {
    await graph.follow(context, local, target, {});
    await context.sql`insert into follows (account_id, target_account_id) select account_id, target_account_id from follow_requests where account_id = ${local.id} and target_account_id = ${target.id} on conflict do nothing`;
    await context.sql`delete from follow_requests where account_id = ${local.id} and target_account_id = ${target.id}`;
  }

  afterAll(() => openPeer?.close());

  /** Pages /users/:name/pages/1..n, each listing `items[i]` and naming the next. */
  function servePages(name: string, items: string[][], nextOf: (i: number) => string | undefined = (i) => (i + 1 < items.length ? `${peer.base}/users/${name}/pages/${i + 2}` : undefined), on = peer) {
    items.forEach((listed, i) => {
      const next = nextOf(i);
      on.addObject(`/users/${name}/pages/${i + 1}`, {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${on.base}/users/${name}/pages/${i + 1}`,
        type: "OrderedCollectionPage",
        orderedItems: listed,
        ...(next && { next }),
      });
    });
  }

  test("Fedify's header and a paged collection (first → next): read to the end, both kinds of mend", { timeout: 15_000 }, async () => {
    await accepted(dan, gus);
    await accepted(erin, gus);
    await graph.follow(context, fay, gus, {});
    expect(await requested(fay.id, gus)).toBe(true);
    const collectionId = `${gus.uri}/followers`;
    const listed = [erin.uri, fay.uri];
    // Fedify's own header: its url is the followers collection filtered by `?base-url=` (our origin).
    const header = await buildCollectionSynchronizationHeader(collectionId, listed);
    expect(new URL(parseSynchronizationHeader(header)!.url).searchParams.get("base-url")).toBe(`${ourBase}/`);
    openPeer.addObject("/users/h1_gus/followers", { "@context": "https://www.w3.org/ns/activitystreams", id: collectionId, type: "OrderedCollection", totalItems: 2, first: `${openPeer.base}/users/h1_gus/pages/1` });
    servePages("h1_gus", [[erin.uri], [], [fay.uri]], (i) => (i < 2 ? `${openPeer.base}/users/h1_gus/pages/${i + 2}` : undefined), openPeer);
    const activity = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${openPeer.base}/activities/h1-gus-1`,
      type: "Create",
      actor: gus.uri,
      to: [collectionId],
      object: { id: `${openPeer.base}/notes/h1-gus-1`, type: "Note", attributedTo: gus.uri, to: [collectionId], content: "<p>paged</p>", published: new Date().toISOString() },
    };
    expect((await openPeer.postSigned("h1_gus", `${ourBase}/inbox`, activity, { headers: { "Collection-Synchronization": header } })).status).toBe(202);
    for (let i = 0; i < 100 && ((await follows(dan.id, gus)) || !(await follows(fay.id, gus))); i++) await Bun.sleep(50);
    expect(await follows(dan.id, gus)).toBe(false);
    expect(await follows(erin.id, gus)).toBe(true);
    expect(await follows(fay.id, gus)).toBe(true);
    expect(followersDigest([erin.uri, fay.uri])).toBe(parseSynchronizationHeader(header)!.digest);
  });

  test("a list longer than ten pages is not read to its end: listed requests still mend, nobody is removed", async () => {
    await accepted(dan, hal);
    await graph.follow(context, fay, hal, {});
    servePages("h1_hal", [[fay.uri], ...Array.from({ length: 11 }, () => [])]);
    const digest = followersDigest([fay.uri]);
    expect(await synchronizeFollowers(context, hal.uri, `${peer.base}/users/h1_hal/pages/1`, digest)).toBe("partly synchronized");
    expect(await follows(fay.id, hal)).toBe(true);
    expect(await follows(dan.id, hal)).toBe(true);
  });

  test("one read per actor an hour, whatever the digest; a retry of the same sync may still read", async () => {
    const url = `${peer.base}/users/h1_hal/pages/1`;
    // hal's list was read just above; another disagreeing digest within the hour reads nothing.
    const fetchesBefore = peer.signedFetches.length;
    expect(await synchronizeFollowers(context, hal.uri, url, followersDigest(["https://elsewhere.example/x"]))).toBe("rate limited");
    expect(peer.signedFetches.length).toBe(fetchesBefore);
    // The same url and digest (BullMQ retrying the job that took the slot) is let through.
    expect(await synchronizeFollowers(context, hal.uri, url, followersDigest([fay.uri]))).toBe("partly synchronized");
  });

  test("a page off the actor's server is not read, and removes nobody", async () => {
    await accepted(dan, ivy);
    servePages("h1_ivy", [[], []], (i) => (i === 0 ? `${ourBase}/users/fsync_alice/followers_synchronization` : undefined));
    expect(await synchronizeFollowers(context, ivy.uri, `${peer.base}/users/h1_ivy/pages/1`, followersDigest([]))).toBe("unreadable");
    expect(await follows(dan.id, ivy)).toBe(true);
    // And a url on another server named in the header queues nothing at all (checked at the inbox edge).
    const header = `collectionId="${ivy.uri}/followers", url="${ourBase}/users/fsync_alice/followers_synchronization", digest="${followersDigest([])}"`;
    const activity = { "@context": "https://www.w3.org/ns/activitystreams", id: `${peer.base}/activities/h1-ivy-1`, type: "Like", actor: ivy.uri, object: `${peer.base}/notes/none` };
    expect((await peer.postSigned("h1_ivy", `${ourBase}/inbox`, activity, { headers: { "Collection-Synchronization": header } })).status).toBe(202);
    await Bun.sleep(300);
    expect(await follows(dan.id, ivy)).toBe(true);
  });
});
