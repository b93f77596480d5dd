/**
 * Local actions travel out, checked by independent Fedify peers on loopback (test/helpers/fedify-peer.ts):
 * what reaches a peer's inbox was signature-checked by Fedify itself (it records only verified activities).
 *
 * Our web app listens on a loopback port (ALLOWED_PRIVATE_ADDRESSES allows the peers), a real worker runs
 * the `push` queue with every job the app knows, and changes go through the Mastodon API as a client makes
 * them. Remote-side state the inbox would create (a remote follower, a remote post) is set up through the
 * same services the inbox handlers call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Follow, Note } from "@fedify/vocab";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import type { AccountRow } from "../../src/features/accounts/store";
import { failureDays, markAvailable, trackFailure, unavailableHosts } from "../../src/features/federation/failure-tracker";
import { enqueueDeliveries, retryDelayMs } from "../../src/features/federation/delivery-jobs";
import { announceAccountDeletion } from "../../src/features/federation/delivery";
import { deleteLocalAccount } from "../../src/features/accounts/service";
import { resolveRemoteAccount } from "../../src/features/federation/remote-accounts";
import { upsertRemoteAccount } from "../../src/features/federation/store";
import * as graph from "../../src/features/graph/service";
import { renderCount } from "../../src/activitypub/render-cache";
import { jobRegistry } from "../../src/jobs";
import { parseSignature } from "../../src/infra/http/signatures";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer, type FedifyPeer, type ReceivedActivity } from "../helpers/fedify-peer";
import { makeTestUser } from "../helpers/users";
import { runWoolly } from "../helpers/cli";
import { expectMatchesSchema } from "../helpers/openapi";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let workers: RunningWorkers;
let peer: FedifyPeer; // fout_bob (follows alice), fout_carol
let other: FedifyPeer; // fout_dave: follows nobody here
let alice: AccountRow & { token: string };
let bob: AccountRow;
let carol: AccountRow;
let dave: AccountRow;

async function api(method: string, path: string, body?: unknown, token = alice.token): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${ourBase}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, json, headers: response.headers };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const objectOf = (r: ReceivedActivity) => r.json.object as Record<string, any>;
const objectId = (r: ReceivedActivity) => (typeof r.json.object === "string" ? r.json.object : objectOf(r)?.id);
const countOf = (p: FedifyPeer, match: (r: ReceivedActivity) => boolean) => p.received.filter(match).length;

beforeAll(async () => {
  let app: ReturnType<typeof buildWebApp> | undefined;
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app!.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  context = await testContext({ LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" });
  app = buildWebApp(context);
  const made = await makeTestUser(context, "fout_alice", { scopes: "read write follow" });
  alice = { ...made.account, token: made.token! };
  workers = startWorkers({ queues: ["push", "ingress"], concurrency: 8, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });

  [peer, other] = await Promise.all([startFedifyPeer({ users: ["fout_bob", "fout_carol"] }), startFedifyPeer({ users: ["fout_dave"] })]);
  bob = (await resolveRemoteAccount(context, `fout_bob@${peer.host}`))!;
  carol = (await resolveRemoteAccount(context, `fout_carol@${peer.host}`))!;
  dave = (await resolveRemoteAccount(context, `fout_dave@${other.host}`))!;
  expect(bob?.domain).toBe(peer.host);
  expect(dave?.domain).toBe(other.host);
  // Handles in text carry no port: give dave's server a name (his inbox stays the peer's loopback URL).
  await context.sql`update accounts set domain = 'fout-other.test' where id = ${dave.id}`;
});

afterAll(async () => {
  await workers?.close(5000);
  ours?.stop(true);
  peer?.close();
  other?.close();
  await context?.close();
});

describe("follows", () => {
  test("a remote follow of an unlocked account is answered with an Accept Fedify verifies", async () => {
    const followUri = `${peer.base}/follows/fout-1`;
    // What the inbox's Follow handler does with a verified Follow from the peer.
    await graph.follow(context, bob, alice, { uri: followUri });
    const accept = await peer.waitForActivity((r) => r.type === "Accept" && objectId(r) === followUri);
    expect(accept.json.actor).toBe(alice.uri);
    expect(accept.recipient).toBe("fout_bob");
    expect(objectOf(accept)).toMatchObject({ type: "Follow", actor: bob.uri, object: alice.uri });
    expect(String(accept.json.id)).toStartWith(`${alice.uri}#accepts/follows/`);
    // Signed as alice (Fedify fetched her key to check it).
    expect(accept.activity.actorId?.href).toBe(alice.uri);
  });

  test("following a remote account sends Follow and shows requested until the Accept; unfollow sends the Undo", async () => {
    const followed = await api("POST", `/api/v1/accounts/${dave.id}/follow`);
    expect(followed.status).toBe(200);
    expect(followed.json).toMatchObject({ following: false, requested: true });
    const follow = await other.waitForActivity((r) => r.type === "Follow");
    expect(follow.json).toMatchObject({ actor: alice.uri, object: dave.uri });
    expect(follow.recipient).toBe("fout_dave");
    const [request] = await context.sql<{ uri: string }[]>`select uri from follow_requests where account_id = ${alice.id} and target_account_id = ${dave.id}`;
    expect(request!.uri).toBe(follow.json.id as string);

    const unfollowed = await api("POST", `/api/v1/accounts/${dave.id}/unfollow`);
    expect(unfollowed.json).toMatchObject({ following: false, requested: false });
    const undo = await other.waitForActivity((r) => r.type === "Undo");
    expect(objectOf(undo)).toMatchObject({ id: follow.json.id, type: "Follow", actor: alice.uri, object: dave.uri });
  });
});

describe("a locked account", () => {
  test("authorizing a remote request sends Accept; rejecting one sends Reject", async () => {
    const locked = await makeTestUser(context, "fout_locked", { scopes: "read write follow" });
    await context.sql`update accounts set locked = true where id = ${locked.account.id}`;
    const lockedAccount = { ...locked.account, locked: true };
    const bobFollow = `${peer.base}/follows/fout-locked-bob`;
    const carolFollow = `${peer.base}/follows/fout-locked-carol`;
    await graph.follow(context, bob, lockedAccount, { uri: bobFollow });
    await graph.follow(context, carol, lockedAccount, { uri: carolFollow });
    // Nothing is sent while the requests wait.
    await Bun.sleep(300);
    expect(countOf(peer, (r) => [bobFollow, carolFollow].includes(objectId(r)))).toBe(0);

    const authorized = await api("POST", `/api/v1/follow_requests/${bob.id}/authorize`, undefined, locked.token!);
    expect(authorized.status).toBe(200);
    expectMatchesSchema(authorized.json, "Relationship");
    expect(authorized.json.followed_by).toBe(true);
    const accept = await peer.waitForActivity((r) => r.type === "Accept" && objectId(r) === bobFollow);
    expect(accept.json.actor).toBe(locked.account.uri);

    // The same through a real client.
    await createRestAPIClient({ url: ourBase, accessToken: locked.token! }).v1.followRequests.$select(carol.id).reject();
    const reject = await peer.waitForActivity((r) => r.type === "Reject" && objectId(r) === carolFollow);
    expect(objectOf(reject)).toMatchObject({ type: "Follow", actor: carol.uri, object: locked.account.uri });
  });

  test("a client (masto) following a remote account sees requested: true", async () => {
    const client = createRestAPIClient({ url: ourBase, accessToken: alice.token });
    const relationship = await client.v1.accounts.$select(carol.id).follow();
    expect(relationship).toMatchObject({ following: false, requested: true });
    const follow = await peer.waitForActivity((r) => r.type === "Follow" && r.json.object === carol.uri);
    expect(follow.json.actor).toBe(alice.uri);
    await client.v1.accounts.$select(carol.id).unfollow();
    await peer.waitForActivity((r) => r.type === "Undo" && objectOf(r)?.id === follow.json.id);
  });
});

describe("posts", () => {
  let publicId: string;

  test("a public post reaches the follower's server once, addressed like Mastodon's", async () => {
    const posted = await api("POST", "/api/v1/statuses", { status: "Hello #fediverse", visibility: "public", language: "en" });
    expect(posted.status).toBe(200);
    publicId = posted.json.id;
    const create = await peer.waitForActivity((r) => r.type === "Create" && objectId(r) === posted.json.uri);
    expect(create.recipient).toBeNull(); // the shared inbox
    expect(create.json).toMatchObject({ id: `${posted.json.uri}/activity`, actor: alice.uri, to: [PUBLIC], cc: [`${alice.uri}/followers`] });
    const note = objectOf(create);
    expect(note).toMatchObject({ type: "Note", attributedTo: alice.uri, url: posted.json.url, sensitive: false, summary: null, inReplyTo: null });
    expect(note.contentMap).toEqual({ en: note.content });
    expect(note.tag).toEqual([{ type: "Hashtag", href: `${ourBase}/tags/fediverse`, name: "#fediverse" }]);
    expect(create.json.bto).toBeUndefined();
    expect(create.json.bcc).toBeUndefined();
    // The other server has no follower of alice: nothing went there.
    await Bun.sleep(300);
    expect(countOf(other, (r) => r.type === "Create")).toBe(0);
  });

  test("an edit travels as Update and a delete as Delete(Tombstone)", async () => {
    const status = await api("GET", `/api/v1/statuses/${publicId}`);
    const edited = await api("PUT", `/api/v1/statuses/${publicId}`, { status: "Hello again #fediverse" });
    expect(edited.status).toBe(200);
    const update = await peer.waitForActivity((r) => r.type === "Update" && objectId(r) === status.json.uri);
    expect(objectOf(update).content).toContain("Hello again");
    expect(objectOf(update).updated).toBeString();
    expect(update.json.to).toEqual([PUBLIC]);

    expect((await api("DELETE", `/api/v1/statuses/${publicId}`)).status).toBe(200);
    const deletion = await peer.waitForActivity((r) => r.type === "Delete" && objectId(r) === status.json.uri);
    expect(objectOf(deletion)).toMatchObject({ id: status.json.uri, type: "Tombstone" });
    expect(deletion.json.actor).toBe(alice.uri);
  });

  test("a private post reaches only followers' servers, with no Public anywhere", async () => {
    const posted = await api("POST", "/api/v1/statuses", { status: "followers only", visibility: "private" });
    const create = await peer.waitForActivity((r) => r.type === "Create" && objectId(r) === posted.json.uri);
    expect(create.json.to).toEqual([`${alice.uri}/followers`]);
    expect(create.json.cc).toEqual([]);
    expect(JSON.stringify(create.json)).not.toContain(PUBLIC);
    await Bun.sleep(300);
    expect(countOf(other, (r) => objectId(r) === posted.json.uri)).toBe(0);
  });

  test("a direct post goes only to the mentioned actor, not to followers", async () => {
    const posted = await api("POST", "/api/v1/statuses", { status: "@fout_dave@fout-other.test just you", visibility: "direct" });
    expect(posted.status).toBe(200);
    const create = await other.waitForActivity((r) => r.type === "Create" && objectId(r) === posted.json.uri);
    expect(create.json.to).toEqual([dave.uri]);
    expect(create.json.cc).toEqual([]);
    expect(objectOf(create).tag).toEqual([{ type: "Mention", href: dave.uri, name: "@fout_dave@fout-other.test" }]);
    await Bun.sleep(300);
    expect(countOf(peer, (r) => objectId(r) === posted.json.uri)).toBe(0);
  });

  test("an unlisted post is to followers and cc Public", async () => {
    const posted = await api("POST", "/api/v1/statuses", { status: "quietly public", visibility: "unlisted" });
    const create = await peer.waitForActivity((r) => r.type === "Create" && objectId(r) === posted.json.uri);
    expect(create.json.to).toEqual([`${alice.uri}/followers`]);
    expect(create.json.cc).toEqual([PUBLIC]);
  });
});

describe("interactions with a remote post", () => {
  let remoteStatusId: string;
  const remoteUri = () => `${peer.base}/notes/fout-n1`;

  beforeAll(async () => {
    // A post by carol as the inbox stores one (Create handling is the inbound side's).
    const [row] = await context.sql<{ id: string }[]>`
      insert into statuses (account_id, uri, url, content, visibility, local)
      values (${carol.id}, ${remoteUri()}, ${remoteUri()}, '<p>from carol</p>', 'public', false) returning id`;
    remoteStatusId = row!.id;
    peer.addNote("fout-n1", new Note({ id: new URL(remoteUri()), content: "from carol" }));
  });

  // The run's database is shared by every test file: leave no remote post for others' timelines to find.
  afterAll(async () => {
    await context.sql`delete from statuses where reblog_of_id = ${remoteStatusId}`;
    await context.sql`delete from statuses where id = ${remoteStatusId}`;
  });

  test("a favourite is a Like to the author; undoing it is an Undo(Like)", async () => {
    expect((await api("POST", `/api/v1/statuses/${remoteStatusId}/favourite`)).status).toBe(200);
    const like = await peer.waitForActivity((r) => r.type === "Like" && objectId(r) === remoteUri());
    expect(like.json.actor).toBe(alice.uri);
    expect(like.recipient).toBe("fout_carol");
    expect((await api("POST", `/api/v1/statuses/${remoteStatusId}/unfavourite`)).status).toBe(200);
    const undo = await peer.waitForActivity((r) => r.type === "Undo" && objectOf(r)?.type === "Like");
    expect(objectOf(undo)).toMatchObject({ type: "Like", actor: alice.uri, object: remoteUri() });
  });

  test("a boost is an Announce to followers and the author; undoing it an Undo(Announce)", async () => {
    const boosted = await api("POST", `/api/v1/statuses/${remoteStatusId}/reblog`);
    expect(boosted.status).toBe(200);
    const announce = await peer.waitForActivity((r) => r.type === "Announce" && r.json.object === remoteUri());
    expect(announce.json).toMatchObject({ actor: alice.uri, to: [PUBLIC], cc: [carol.uri, `${alice.uri}/followers`] });
    // bob (follower) and carol (author) share one server: one copy, at the shared inbox.
    await Bun.sleep(300);
    expect(countOf(peer, (r) => r.type === "Announce")).toBe(1);
    expect((await api("POST", `/api/v1/statuses/${remoteStatusId}/unreblog`)).status).toBe(200);
    const undo = await peer.waitForActivity((r) => r.type === "Undo" && objectOf(r)?.type === "Announce");
    expect(objectOf(undo).id).toBe(announce.json.id);
  });
});

describe("profile, blocks and domain blocks", () => {
  test("a profile change is an Update(Person)", async () => {
    expect((await api("PATCH", "/api/v1/accounts/update_credentials", { display_name: "Alice Outbound" })).status).toBe(200);
    const update = await peer.waitForActivity((r) => r.type === "Update" && objectOf(r)?.type === "Person");
    expect(objectOf(update)).toMatchObject({ id: alice.uri, name: "Alice Outbound" });
    expect(update.json.to).toEqual([PUBLIC]);
  });

  test("a block sends Block (and a Reject of the follow it cuts); unblock sends Undo(Block)", async () => {
    await api("POST", `/api/v1/accounts/${carol.id}/follow`);
    await graph.follow(context, carol, alice, { uri: `${peer.base}/follows/fout-carol` });
    await peer.waitForActivity((r) => r.type === "Accept" && objectId(r) === `${peer.base}/follows/fout-carol`);
    const blocked = await api("POST", `/api/v1/accounts/${carol.id}/block`);
    expect(blocked.json).toMatchObject({ blocking: true, followed_by: false, following: false });
    const block = await peer.waitForActivity((r) => r.type === "Block");
    expect(block.json).toMatchObject({ actor: alice.uri, object: carol.uri });
    const reject = await peer.waitForActivity((r) => r.type === "Reject" && objectId(r) === `${peer.base}/follows/fout-carol`);
    expect(objectOf(reject)).toMatchObject({ actor: carol.uri, object: alice.uri });
    await peer.waitForActivity((r) => r.type === "Undo" && objectOf(r)?.type === "Follow" && objectOf(r)?.object === carol.uri);
    expect((await api("POST", `/api/v1/accounts/${carol.id}/unblock`)).status).toBe(200);
    const undo = await peer.waitForActivity((r) => r.type === "Undo" && objectOf(r)?.type === "Block");
    expect(objectOf(undo).id).toBe(block.json.id);
  });

  test("a user-level domain block ends follows both ways with that domain", async () => {
    await api("POST", `/api/v1/accounts/${bob.id}/follow`);
    expect((await api("GET", `/api/v1/accounts/relationships?id[]=${bob.id}`)).json[0]).toMatchObject({ followed_by: true, requested: true });
    const blocked = await api("POST", "/api/v1/domain_blocks", { domain: "127.0.0.1" });
    expect(blocked.status).toBe(200);
    const [relationship] = (await api("GET", `/api/v1/accounts/relationships?id[]=${bob.id}`)).json;
    expect(relationship).toMatchObject({ following: false, followed_by: false, requested: false });
    await peer.waitForActivity((r) => r.type === "Reject" && objectId(r) === `${peer.base}/follows/fout-1`);
    await api("DELETE", "/api/v1/domain_blocks", { domain: "127.0.0.1" });
  });
});

describe("objects, one URL two faces", () => {
  let status: { id: string; uri: string; url: string };

  beforeAll(async () => {
    status = (await api("POST", "/api/v1/statuses", { status: "Fetch me", visibility: "public", language: "en" })).json;
  });

  test("the peer fetches our Note by its URL (activity+json)", async () => {
    const object = await peer.context().lookupObject(status.uri);
    expect(object).toBeInstanceOf(Note);
    expect((object as Note).attributionId?.href).toBe(alice.uri);
    expect((object as Note).content?.toString()).toContain("Fetch me");
  });

  test("the same URL answers HTML to people with Vary: Accept, and one render serves a burst", async () => {
    const json = await fetch(status.uri, { headers: { accept: "application/activity+json" } });
    expect(json.headers.get("content-type")).toStartWith("application/activity+json");
    expect(json.headers.get("vary")).toBe("Accept");
    expect(json.headers.get("cache-control")).toContain("public");
    const redirect = await fetch(status.uri, { redirect: "manual", headers: { accept: "text/html" } });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe(status.url);
    expect(redirect.headers.get("vary")).toBe("Accept");
    const page = await fetch(status.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("vary")).toBe("Accept");
    const text = await page.text();
    expect(text).toContain(`<link rel="alternate" type="application/activity+json" href="${status.uri}">`);
    expect(text).toContain('<meta property="og:description" content="Fetch me">');
    expect(text).toContain('name="twitter:card"');

    const before = renderCount();
    await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(i % 2 ? status.uri : status.url, { headers: { accept: i % 2 ? "application/activity+json" : "text/html" } })));
    expect(renderCount() - before).toBe(0);
  });

  test("the Create, outbox, featured, replies and oEmbed answer; private and deleted posts are 404", async () => {
    const activity = await (await fetch(`${status.uri}/activity`)).json();
    expect(activity).toMatchObject({ type: "Create", actor: alice.uri, object: { id: status.uri, type: "Note" } });
    const outbox = await (await fetch(`${alice.uri}/outbox`)).json();
    expect(outbox).toMatchObject({ type: "OrderedCollection", first: `${alice.uri}/outbox?page=true` });
    const outboxPage = (await (await fetch(`${alice.uri}/outbox?page=true`)).json()) as { orderedItems: any[] };
    expect(outboxPage.orderedItems.map((a: any) => a.object?.id ?? a.object)).toContain(status.uri);
    expect(JSON.stringify(outboxPage)).not.toContain("followers only");

    expect((await api("POST", `/api/v1/statuses/${status.id}/pin`)).status).toBe(200);
    await waitFor("the featured collection to show the pin", async () => {
      const featured = (await (await fetch(`${alice.uri}/collections/featured`)).json()) as { orderedItems?: any[] };
      return featured.orderedItems?.some((n: any) => n.id === status.uri);
    });
    const replies = await (await fetch(`${status.uri}/replies`)).json();
    expect(replies).toMatchObject({ type: "Collection", first: { type: "CollectionPage", items: [] } });
    const oembed = await fetch(`${ourBase}/api/oembed?url=${encodeURIComponent(status.url)}`);
    expect(oembed.status).toBe(200);
    expect(await oembed.json()).toMatchObject({ type: "rich", version: "1.0", author_url: `${ourBase}/@fout_alice` });
    expect((await fetch(`${ourBase}/api/oembed?url=nonsense`)).status).toBe(400);

    const hidden = (await api("POST", "/api/v1/statuses", { status: "secret", visibility: "private" })).json;
    expect((await fetch(hidden.uri, { headers: { accept: "application/activity+json" } })).status).toBe(404);
    expect((await fetch(hidden.url)).status).toBe(404);

    await api("DELETE", `/api/v1/statuses/${status.id}`);
    // Delivery bumps the account's object version: the cached render goes within about a second.
    await waitFor("the deleted post to 404", async () => (await fetch(status.uri, { headers: { accept: "application/activity+json" } })).status === 404, 10_000);
  });
});

describe("a dead server", () => {
  test("a failed delivery is retried with Mastodon's backoff and counted by the failure tracker", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    const host = `127.0.0.1:${port}`;
    const ghost = await upsertRemoteAccount(context.sql, {
      username: "fout_ghost",
      domain: host,
      uri: `http://${host}/users/fout_ghost`,
      url: null,
      inbox_url: `http://${host}/users/fout_ghost/inbox`,
      shared_inbox_url: `http://${host}/inbox`,
      public_key: bob.public_key,
      display_name: "",
      note: "",
      fields: [],
      locked: false,
      bot: false,
      discoverable: null,
      indexable: false,
      memorial: false,
    });
    // Failures on six earlier days…
    for (let day = 6; day >= 1; day--) await trackFailure(context, `http://${host}/inbox`, new Date(Date.now() - day * 86_400_000));
    expect(await failureDays(context, host)).toBe(6);
    // …and today's: the Accept for the ghost's follow cannot be delivered.
    await graph.follow(context, ghost, alice, { uri: `http://${host}/follows/1` });
    await waitFor("the host to be marked unavailable", async () => (await unavailableHosts(context.sql)).has(host) || (await context.sql`select 1 from unavailable_domains where domain = ${host}`).length > 0);
    // Now skipped without a connection: nothing is queued for it.
    expect(await enqueueDeliveries(context, alice.id, { id: `${alice.uri}#probe`, type: "Note" }, [`http://${host}/inbox`])).toBe(0);
    // It answering again (or sending us something) clears the record.
    await markAvailable(context, host);
    expect(await failureDays(context, host)).toBe(0);
    expect((await unavailableHosts(context.sql)).has(host)).toBe(false);
  });

  test("a transient failure schedules the next attempt as a delayed job", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const inbox = `http://127.0.0.1:${closed.port}/inbox`;
    closed.stop(true);
    await enqueueDeliveries(context, alice.id, { id: `${alice.uri}#retry-probe`, type: "Note" }, [inbox]);
    const retry = await waitFor("the retry job", async () => (await context.queues.queue("push").getDelayed()).find((j) => j.data.inbox === inbox));
    expect(retry.data.attempt).toBe(2);
    const delay = retry.opts.delay ?? 0;
    expect(delay).toBeGreaterThanOrEqual(retryDelayMs(1, () => 0));
    expect(delay).toBeLessThanOrEqual(retryDelayMs(1, () => 0.999));
    expect(await failureDays(context, `127.0.0.1:${new URL(inbox).port}`)).toBe(1);
    await retry.remove();
  });
});

describe("signatures", () => {
  test("a peer that answers 401 to draft-cavage gets the activity again signed with RFC 9421", async () => {
    const seen: { scheme: string; verified: boolean; signedHeaders: string }[] = [];
    const strict = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const body = new Uint8Array(await request.arrayBuffer());
        const parsed = parseSignature({ method: "POST", urls: [request.url], headers: request.headers, body });
        seen.push({
          scheme: parsed.scheme,
          verified: parsed.verify(alice.public_key) && parsed.keyId === `${alice.uri}#main-key`,
          signedHeaders: /headers="([^"]*)"/.exec(request.headers.get("signature") ?? "")?.[1] ?? "",
        });
        return new Response(null, { status: parsed.scheme === "rfc9421" ? 202 : 401 });
      },
    });
    try {
      const inbox = `http://127.0.0.1:${strict.port}/inbox`;
      await enqueueDeliveries(context, alice.id, { id: `${alice.uri}#sig-probe`, type: "Note" }, [inbox]);
      await waitFor("both tries", async () => seen.length >= 2);
      expect(seen[0]).toEqual({ scheme: "draft-cavage", verified: true, signedHeaders: "(request-target) host date digest content-type" });
      expect(seen[1]).toMatchObject({ scheme: "rfc9421", verified: true });
      await Bun.sleep(200);
      expect(seen.length).toBe(2);
      expect(await failureDays(context, `127.0.0.1:${strict.port}`)).toBe(0);
    } finally {
      strict.stop(true);
    }
  });
});

describe("remote-originated events", () => {
  test("what a remote actor did (inbound Undo(Follow), Block) is never delivered back out", async () => {
    const followUri = `${other.base}/follows/fout-dave`;
    await graph.follow(context, dave, alice, { uri: followUri });
    await other.waitForActivity((r) => r.type === "Accept" && objectId(r) === followUri);
    const before = other.received.length;
    // As the inbox handles dave's Undo(Follow) and then his Block of alice.
    await graph.unfollow(context, dave, alice.id);
    await graph.block(context, dave, alice.id);
    // A local action after them is delivered, so the queue is known to be moving when we look.
    await graph.unblock(context, alice, dave.id);
    await graph.block(context, alice, dave.id);
    await other.waitForActivity((r) => r.type === "Block" && r.json.actor === alice.uri);
    await Bun.sleep(300);
    expect(other.received.slice(before).map((r) => `${r.type}:${r.json.actor}`)).toEqual([`Block:${alice.uri}`]);
  });
});

describe("account deletion", () => {
  test("Delete(Person) is signed before the account and its key go, and reaches its followers' servers", async () => {
    const got: { json: any; verified: boolean }[] = [];
    const gone = (await makeTestUser(context, "fout_gone")).account;
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const body = new Uint8Array(await request.arrayBuffer());
        const signature = parseSignature({ method: "POST", urls: [request.url], headers: request.headers, body });
        got.push({ json: JSON.parse(new TextDecoder().decode(body)), verified: signature.verify(gone.public_key) && signature.keyId === `${gone.uri}#main-key` });
        return new Response(null, { status: 202 });
      },
    });
    try {
      const host = `127.0.0.1:${receiver.port}`;
      const follower = await upsertRemoteAccount(context.sql, {
        username: "fout_mourner",
        domain: host,
        uri: `http://${host}/users/fout_mourner`,
        url: null,
        inbox_url: `http://${host}/users/fout_mourner/inbox`,
        shared_inbox_url: `http://${host}/inbox`,
        public_key: bob.public_key,
        display_name: "",
        note: "",
        fields: [],
        locked: false,
        bot: false,
        discoverable: null,
        indexable: false,
        memorial: false,
      });
      await graph.follow(context, follower, gone, { uri: `http://${host}/follows/1` });
      await waitFor("the Accept", async () => got.some((g) => g.json.type === "Accept"));
      expect(await announceAccountDeletion(context, gone.id)).toBe(1);
      await deleteLocalAccount(context.sql, "fout_gone");
      const deletion = await waitFor("the Delete", async () => got.find((g) => g.json.type === "Delete"));
      expect(deletion.json).toMatchObject({ id: `${gone.uri}#delete`, actor: gone.uri, object: gone.uri, to: [PUBLIC] });
      expect(deletion.verified).toBe(true);

      // The operator's way: `woolly admin accounts delete` announces it the same way.
      const viaCli = (await makeTestUser(context, "fout_gone_cli")).account;
      await graph.follow(context, follower, viaCli, { uri: `http://${host}/follows/2` });
      const result = await runWoolly(["admin", "accounts", "delete", "fout_gone_cli"]);
      expect(result.code).toBe(0);
      const cliDeletion = await waitFor("the CLI's Delete", async () => got.find((g) => g.json.type === "Delete" && g.json.actor === viaCli.uri));
      expect(cliDeletion.json.object).toBe(viaCli.uri);
      expect(await context.sql`select 1 from accounts where id = ${viaCli.id}`).toHaveLength(0);
    } finally {
      receiver.stop(true);
    }
  });
});

describe("end to end through our inbox", () => {
  test("a Follow Fedify sends is taken by our inbox and answered with an Accept Fedify verifies", async () => {
    const followId = `${peer.base}/follows/fout-e2e`;
    const ctx = peer.context();
    await peer.send(
      "fout_carol",
      { uri: alice.uri, inbox: `${alice.uri}/inbox` },
      new Follow({ id: new URL(followId), actor: ctx.getActorUri("fout_carol"), object: new URL(alice.uri) }),
    );
    const accept = await peer.waitForActivity((r) => r.type === "Accept" && objectId(r) === followId, 20_000);
    expect(accept.json.actor).toBe(alice.uri);
    expect(accept.recipient).toBe("fout_carol");
    const [relationship] = (await api("GET", `/api/v1/accounts/relationships?id[]=${carol.id}`)).json;
    expect(relationship.followed_by).toBe(true);
  });
});

describe("hostile input on the object doors", () => {
  test("odd ids, names and parameters are 4xx, never 5xx", async () => {
    const paths = [
      "/users/fout_alice/statuses/99999999999999999999999",
      "/users/fout_alice/statuses/-1",
      "/users/fout_alice/statuses/abc/activity",
      "/users/fout_alice/statuses/1/replies?page=true&min_id=abc",
      `/users/${"x".repeat(5000)}/statuses/1`,
      "/users/fout_alice/outbox?page=true&max_id=1e99",
      "/users/%00/collections/featured",
      "/@fout_alice/..%2F..%2Fetc",
      "/api/oembed",
      `/api/oembed?url=${encodeURIComponent("https://elsewhere.example/@fout_alice/1")}`,
      `/api/oembed?url=${encodeURIComponent(`${ourBase}/@fout_alice/${"9".repeat(30)}`)}`,
      `/api/oembed?url=${"a".repeat(5000)}`,
    ];
    for (const path of paths) {
      for (const accept of ["application/activity+json", "text/html"]) {
        const response = await fetch(`${ourBase}${path}`, { redirect: "manual", headers: { accept } });
        expect({ path, accept, status: response.status < 500 }).toEqual({ path, accept, status: true });
        if (response.status >= 400 && response.headers.get("content-type")?.includes("json")) expect(typeof ((await response.json()) as { error: unknown }).error).toBe("string");
      }
    }
  });
});
