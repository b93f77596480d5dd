/**
 * Remote content flowing in: a Fedify peer (test/helpers/fedify-peer.ts) on loopback sends signed activities
 * to our inbox; real workers process them (ingress, pull, default); the results are read back through the
 * Mastodon API (and checked against Mastodon's OpenAPI schema) as a client would see them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Accept, Announce, Create, Delete, Follow, Like, Note, Tombstone, Undo, Update } from "@fedify/vocab";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { activityKey, forgetDomainSeverities, processActivity } from "../../src/features/federation/inbox";
import { resolveQuery } from "../../src/features/federation/resolve";
import { findRemoteByUri, resolveRemoteAccount } from "../../src/features/federation/remote-accounts";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let peer: FedifyPeer;
const api = inProcessApi(() => app);

let alice: LocalAccountRow;
let aliceToken: string;
let locked: LocalAccountRow;
let lockedToken: string;
let bobId: string;

const bob = () => peer.actorUri("fin_bob");
const carol = () => peer.actorUri("fin_carol");
let seq = 0;
const nextId = (what: string) => `${peer.base}/${what}/${Date.now()}-${++seq}`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** POST a signed activity to our shared inbox and wait until the worker has processed it. */
async function deliver(from: string, activity: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify({ "@context": AS, ...activity });
  const response = await peer.postSigned(from, `${ourBase}/inbox`, body);
  expect(response.status).toBe(202);
  const key = activityKey(JSON.parse(body), body);
  const job = await waitFor("the ingress job", async () => {
    const found = await context.queues.queue("ingress").getJob(`ap-${key}`);
    return found?.finishedOn ? found : undefined;
  });
  expect(job.failedReason ?? "").toBe("");
}

function note(from: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const id = nextId("notes");
  return {
    id,
    type: "Note",
    attributedTo: peer.actorUri(from),
    content: "<p>hello</p>",
    published: new Date().toISOString(),
    to: [PUBLIC],
    cc: [`${peer.actorUri(from)}/followers`],
    url: `${id}/html`,
    ...extra,
  };
}

function create(from: string, object: Record<string, unknown>) {
  return { id: `${object.id}/activity`, type: "Create", actor: peer.actorUri(from), object, to: object.to, cc: object.cc };
}

async function statusByUri(uri: string): Promise<{ id: string } | undefined> {
  const [row] = await context.sql<{ id: string }[]>`select id::text from statuses where uri = ${uri} and deleted_at is null`;
  return row;
}

beforeAll(async () => {
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  context = await testContext({ LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" });
  app = buildWebApp(context);
  workers = startWorkers({
    queues: ["ingress", "pull", "default"],
    concurrency: 4,
    registry: jobRegistry,
    context,
    connection: context.bullConnection,
    prefix: context.bullPrefix,
  });
  peer = await startFedifyPeer({ users: ["fin_bob", "fin_carol", "fin_eve"] });
  const a = await makeTestUser(context, "fin_alice", { scopes: "read write follow" });
  alice = a.account;
  aliceToken = a.token!;
  const l = await makeTestUser(context, "fin_locked", { scopes: "read write follow" });
  locked = l.account;
  lockedToken = l.token!;
  await context.sql`update accounts set locked = true where id = ${locked.id}`;
  bobId = (await resolveRemoteAccount(context, `fin_bob@${peer.host}`))!.id;
});

afterAll(async () => {
  await workers?.close(5000);
  // Link previews of our remote posts (e.g. the Article's link) would be fetched from the peer after it is
  // gone and end in the shared run's failed set: other test files count that set.
  for (const job of (await context?.queues.queue("pull").getJobs(["delayed", "waiting", "failed"])) ?? []) {
    if (JSON.stringify(job?.data ?? {}).includes(peer.base)) await job.remove().catch(() => {});
  }
  // The run's database is shared by every test file: take the peer's accounts (and with them, by cascade,
  // their statuses) away, so later files that count remote posts on public timelines start clean.
  if (peer && context) await context.sql`delete from accounts where domain = ${peer.host}`;
  ours?.stop(true);
  peer?.close();
  await context?.close();
});

describe("follows between us and the peer", () => {
  test("our follow of a remote account is requested until its Accept (Fedify's own sendActivity) arrives", async () => {
    const follow = await api("POST", `/api/v1/accounts/${bobId}/follow`, { token: aliceToken });
    expect(follow.status).toBe(200);
    expect(follow.json.requested).toBe(true);
    const [request] = await context.sql<{ uri: string }[]>`select uri from follow_requests where account_id = ${alice.id} and target_account_id = ${bobId}`;
    expect(request?.uri).toBeTruthy();
    await peer.send(
      "fin_bob",
      { uri: alice.uri, inbox: `${alice.uri}/inbox` },
      new Accept({
        id: new URL(nextId("accepts")),
        actor: new URL(bob()),
        object: new Follow({ id: new URL(request!.uri), actor: new URL(alice.uri), object: new URL(bob()) }),
      }),
    );
    const relationship = await waitFor("the follow", async () => {
      const r = await api("GET", `/api/v1/accounts/relationships?id[]=${bobId}`, { token: aliceToken });
      return r.json[0]?.following ? r.json[0] : undefined;
    });
    expect(relationship.requested).toBe(false);
    expectMatchesSchema(relationship, "Relationship");
  });

  test("a remote Follow of a locked account is a follow request; of an unlocked one a follower with a notification", async () => {
    const followLocked = nextId("follows");
    await deliver("fin_carol", { id: followLocked, type: "Follow", actor: carol(), object: locked.uri });
    const requests = await api("GET", "/api/v1/follow_requests", { token: lockedToken });
    expect(requests.json.map((a: { acct: string }) => a.acct)).toContain(`fin_carol@${peer.host}`);
    const [row] = await context.sql<{ uri: string }[]>`select uri from follow_requests where target_account_id = ${locked.id}`;
    expect(row!.uri).toBe(followLocked);

    await deliver("fin_carol", { id: nextId("follows"), type: "Follow", actor: carol(), object: alice.uri });
    const followers = await api("GET", `/api/v1/accounts/${alice.id}/followers`, { token: aliceToken });
    expect(followers.json.map((a: { acct: string }) => a.acct)).toContain(`fin_carol@${peer.host}`);
    const notification = await waitFor("the follow notification", async () => {
      const n = await api("GET", "/api/v1/notifications?types[]=follow", { token: aliceToken });
      return n.json.find((x: { account: { acct: string } }) => x.account.acct === `fin_carol@${peer.host}`);
    });
    expectMatchesSchema(notification, "Notification");
  });

  test("Undo(Follow) removes the follower; a Follow of nobody is ignored", async () => {
    const id = nextId("follows");
    await deliver("fin_eve", { id, type: "Follow", actor: peer.actorUri("fin_eve"), object: alice.uri });
    const eve = (await findRemoteByUri(context.sql, peer.actorUri("fin_eve")))!;
    const [before] = await context.sql`select 1 from follows where account_id = ${eve.id} and target_account_id = ${alice.id}`;
    expect(before).toBeDefined();
    await deliver("fin_eve", { id: nextId("undos"), type: "Undo", actor: peer.actorUri("fin_eve"), object: { id, type: "Follow", actor: peer.actorUri("fin_eve"), object: alice.uri } });
    const [after] = await context.sql`select 1 from follows where account_id = ${eve.id} and target_account_id = ${alice.id}`;
    expect(after).toBeUndefined();
    const result = await processActivity(context, { id: nextId("follows"), type: "Follow", actor: peer.actorUri("fin_eve"), object: `${ourBase}/users/nobody_here` }, "f".repeat(40));
    expect(result.outcome).toStartWith("ignored");
  });

  test("Reject drops our pending request; Block by a remote account cuts follows both ways", async () => {
    const eve = (await findRemoteByUri(context.sql, peer.actorUri("fin_eve")))!;
    expect((await api("POST", `/api/v1/accounts/${eve.id}/follow`, { token: aliceToken })).json.requested).toBe(true);
    const [request] = await context.sql<{ uri: string }[]>`select uri from follow_requests where account_id = ${alice.id} and target_account_id = ${eve.id}`;
    await deliver("fin_eve", { id: nextId("rejects"), type: "Reject", actor: peer.actorUri("fin_eve"), object: request!.uri });
    const relationship = await api("GET", `/api/v1/accounts/relationships?id[]=${eve.id}`, { token: aliceToken });
    expect(relationship.json[0]).toMatchObject({ following: false, requested: false });

    // Carol follows alice (previous test); carol blocks alice.
    const carolRow = (await findRemoteByUri(context.sql, carol()))!;
    await deliver("fin_carol", { id: nextId("blocks"), type: "Block", actor: carol(), object: alice.uri });
    const [follow] = await context.sql`select 1 from follows where account_id = ${carolRow.id} and target_account_id = ${alice.id}`;
    expect(follow).toBeUndefined();
    const [block] = await context.sql`select 1 from blocks where account_id = ${carolRow.id} and target_account_id = ${alice.id}`;
    expect(block).toBeDefined();
    await deliver("fin_carol", { id: nextId("undos"), type: "Undo", actor: carol(), object: { type: "Block", actor: carol(), object: alice.uri } });
    const [unblocked] = await context.sql`select 1 from blocks where account_id = ${carolRow.id} and target_account_id = ${alice.id}`;
    expect(unblocked).toBeUndefined();
  });
});

describe("remote posts", () => {
  test("a Fedify Create(Note) from a followed account reaches the follower's home timeline (masto.js)", async () => {
    const id = nextId("notes");
    const ctx = peer.context();
    await peer.send(
      "fin_bob",
      { uri: alice.uri, inbox: `${alice.uri}/inbox`, sharedInbox: `${ourBase}/inbox` },
      new Create({
        id: new URL(`${id}/activity`),
        actor: ctx.getActorUri("fin_bob"),
        object: new Note({ id: new URL(id), content: "<p>from fedify</p>", attribution: ctx.getActorUri("fin_bob"), to: new URL(PUBLIC), published: Temporal.Now.instant() }),
        to: new URL(PUBLIC),
      }),
      { preferSharedInbox: true },
    );
    const masto = createRestAPIClient({ url: ourBase, accessToken: aliceToken });
    const status = await waitFor("the post in alice's home", async () => (await masto.v1.timelines.home.list({ limit: 40 })).find((s) => s.uri === id));
    expect(status.content).toBe("<p>from fedify</p>");
    expect(status.account.acct).toBe(`fin_bob@${peer.host}`);
    expect(status.visibility).toBe("public");
  });

  test("Fedify's own Update, Announce, Undo and Delete (its JSON-LD serialisation) show through the API", async () => {
    const ctx = peer.context();
    const to = { uri: alice.uri, inbox: `${alice.uri}/inbox`, sharedInbox: `${ourBase}/inbox` };
    const id = nextId("notes");
    const published = Temporal.Now.instant();
    const make = (content: string, updated?: Temporal.Instant) =>
      new Note({ id: new URL(id), content, attribution: ctx.getActorUri("fin_bob"), to: new URL(PUBLIC), published, updated });
    await peer.send("fin_bob", to, new Create({ id: new URL(`${id}/create`), actor: ctx.getActorUri("fin_bob"), object: make("<p>v1</p>"), to: new URL(PUBLIC) }), { preferSharedInbox: true });
    const row = await waitFor("the status", () => statusByUri(id));
    await peer.send(
      "fin_bob",
      to,
      new Update({ id: new URL(`${id}/update`), actor: ctx.getActorUri("fin_bob"), object: make("<p>v2</p>", published.add({ seconds: 5 })), to: new URL(PUBLIC) }),
      { preferSharedInbox: true },
    );
    await waitFor("the edit", async () => (await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).json.content === "<p>v2</p>");
    const announceId = new URL(nextId("announces"));
    // Bob boosts his own post (carol could not: nobody here follows her, and the post is not ours).
    await peer.send("fin_bob", to, new Announce({ id: announceId, actor: ctx.getActorUri("fin_bob"), object: new URL(id), to: new URL(PUBLIC) }), { preferSharedInbox: true });
    await waitFor("the boost", async () => (await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).json.reblogs_count === 1);
    await peer.send(
      "fin_bob",
      to,
      new Undo({ id: new URL(nextId("undos")), actor: ctx.getActorUri("fin_bob"), object: new Announce({ id: announceId, actor: ctx.getActorUri("fin_bob"), object: new URL(id) }) }),
      { preferSharedInbox: true },
    );
    await waitFor("the unboost", async () => (await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).json.reblogs_count === 0);
    await peer.send("fin_bob", to, new Delete({ id: new URL(`${id}/delete`), actor: ctx.getActorUri("fin_bob"), object: new Tombstone({ id: new URL(id) }), to: new URL(PUBLIC) }), {
      preferSharedInbox: true,
    });
    await waitFor("the deletion", async () => (await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).status === 404);
  });

  test("a full Mastodon-style Note maps to a Mastodon status: CW, sensitive, language, mentions, tags, media, sanitised HTML", async () => {
    const object = note("fin_bob", {
      summary: "spoilers <b>ahead</b>",
      sensitive: false,
      contentMap: { "en-GB": "ignored when content is given" },
      content:
        `<p>hi <span class="h-card"><a href="${alice.uri}" class="u-url mention">@<span>fin_alice</span></a></span> ` +
        `<a href="${peer.base}/tags/Woolly" class="mention hashtag" rel="tag">#<span>Woolly</span></a>` +
        `<script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">js</a></p>`,
      tag: [
        { type: "Mention", href: alice.uri, name: `@fin_alice@127.0.0.1:${ours.port}` },
        { type: "Hashtag", href: `${peer.base}/tags/Woolly`, name: "#Woolly" },
      ],
      attachment: [
        { type: "Document", mediaType: "image/png", url: `${peer.base}/media/1.png`, name: "a <b>cat</b>", blurhash: "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH", focalPoint: [0.5, -0.25], width: 640, height: 480 },
        { type: "Document", mediaType: "video/mp4", url: [{ type: "Link", href: `${peer.base}/media/2.mp4`, mediaType: "video/mp4" }] },
        { type: "Document", mediaType: "application/pdf", url: `${peer.base}/media/3.pdf` },
        { type: "Document", url: "javascript:alert(1)" },
      ],
    });
    await deliver("fin_bob", create("fin_bob", object));
    const row = (await statusByUri(object.id as string))!;
    const { json: status, status: code } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expect(code).toBe(200);
    expectMatchesSchema(status, "Status");
    expect(status.uri).toBe(object.id);
    expect(status.url).toBe(object.url);
    expect(status.spoiler_text).toBe("spoilers ahead");
    expect(status.sensitive).toBe(true);
    expect(status.language).toBe("en");
    expect(status.content).not.toContain("script");
    expect(status.content).not.toContain("onerror");
    expect(status.content).not.toContain("javascript:");
    expect(status.content).toContain('class="u-url mention"');
    expect(status.mentions.map((m: { id: string }) => m.id)).toEqual([alice.id]);
    expect(status.tags.map((t: { name: string }) => t.name)).toEqual(["woolly"]);
    expect(status.media_attachments.map((m: { type: string }) => m.type)).toEqual(["image", "video", "unknown"]);
    const [image] = status.media_attachments;
    expect(image.remote_url).toBe(`${peer.base}/media/1.png`);
    expect(image.description).toBe("a cat");
    expect(image.blurhash).toBe("UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH");
    const [media] = await context.sql<{ file_key: string | null; focus: unknown; meta: { original?: { width: number } }; account_id: string }[]>`
      select file_key, focus, meta, account_id::text from media_attachments where status_id = ${row.id} order by id limit 1`;
    expect(media).toMatchObject({ file_key: null, focus: { x: 0.5, y: -0.25 }, account_id: bobId });
    expect(media!.meta.original?.width).toBe(640);
    // The mention notifies alice.
    await waitFor("the mention notification", async () => {
      const n = await api("GET", "/api/v1/notifications?types[]=mention", { token: aliceToken });
      return n.json.some((x: { status?: { id: string } }) => x.status?.id === row.id);
    });
  });

  test("visibility from to/cc as Mastodon: public, unlisted, followers-only, direct", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ to: [PUBLIC], cc: [] }, "public"],
      [{ to: [`${bob()}/followers`], cc: [PUBLIC] }, "unlisted"],
      [{ to: [`${bob()}/followers`], cc: [] }, "private"],
      [{ to: [alice.uri], cc: [], tag: [{ type: "Mention", href: alice.uri }] }, "direct"],
      [{ to: "as:Public" }, "public"],
      [{ to: [alice.uri], cc: [] }, "direct"],
    ];
    let lastId = "";
    for (const [audience, expected] of cases) {
      const object = note("fin_bob", audience);
      await deliver("fin_bob", create("fin_bob", object));
      const [row] = await context.sql<{ id: string; visibility: string }[]>`select id::text, visibility from statuses where uri = ${object.id as string}`;
      expect(row?.visibility).toBe(expected);
      lastId = row!.id;
    }
    // The last one addresses alice without a Mention tag: she may read it (a silent mention), others may not.
    const seen = await api("GET", `/api/v1/statuses/${lastId}`, { token: aliceToken });
    expect(seen.status).toBe(200);
    expect(seen.json.mentions).toEqual([]);
    expect((await api("GET", `/api/v1/statuses/${lastId}`, { token: lockedToken })).status).toBe(404);
  });

  test("a reply whose parent we lack: stored at once, the parent fetched on pull (signed GET) and linked", async () => {
    const grandparentId = `${peer.base}/notes/gp-${Date.now()}`;
    const parentId = `${peer.base}/notes/p-${Date.now()}`;
    peer.addObject(new URL(grandparentId).pathname, { "@context": AS, ...note("fin_carol", { id: grandparentId, content: "<p>root</p>" }) });
    peer.addObject(new URL(parentId).pathname, { "@context": AS, ...note("fin_carol", { id: parentId, content: "<p>middle</p>", inReplyTo: grandparentId }) });
    const reply = note("fin_bob", { inReplyTo: parentId, content: "<p>leaf</p>" });
    await deliver("fin_bob", create("fin_bob", reply));
    const leaf = (await statusByUri(reply.id as string))!;
    const context_ = await waitFor("the thread", async () => {
      const c = await api("GET", `/api/v1/statuses/${leaf.id}/context`, { token: aliceToken });
      return c.json.ancestors?.length === 2 ? c.json : undefined;
    });
    expect(context_.ancestors.map((s: { content: string }) => s.content)).toEqual(["<p>root</p>", "<p>middle</p>"]);
    expectMatchesSchema(context_, "Context");
    expect(peer.signedFetches).toContain(`${ourBase}/actor#main-key`);
  });

  test("Update(Note) by its author is an edit with history; by someone else it is ignored", async () => {
    const object = note("fin_bob", { content: "<p>first</p>" });
    await deliver("fin_bob", create("fin_bob", object));
    const row = (await statusByUri(object.id as string))!;
    const edited = { ...object, content: "<p>second</p>", updated: new Date(Date.now() + 1000).toISOString() };
    await deliver("fin_bob", { id: nextId("updates"), type: "Update", actor: bob(), object: edited });
    const { json: status } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expect(status.content).toBe("<p>second</p>");
    expect(status.edited_at).toBeTruthy();
    const history = await api("GET", `/api/v1/statuses/${row.id}/history`, { token: aliceToken });
    expect(history.json.map((v: { content: string }) => v.content)).toEqual(["<p>first</p>", "<p>second</p>"]);
    // Carol claims bob's post.
    const forged = { ...edited, content: "<p>forged</p>", attributedTo: carol() };
    await deliver("fin_carol", { id: nextId("updates"), type: "Update", actor: carol(), object: forged });
    expect((await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).json.content).toBe("<p>second</p>");
  });

  test("a Question becomes a poll; an Update with new counts only updates the tallies", async () => {
    const endTime = new Date(Date.now() + 3600_000).toISOString();
    const question = note("fin_bob", {
      type: "Question",
      content: "<p>tea or coffee?</p>",
      oneOf: [
        { type: "Note", name: "tea", replies: { type: "Collection", totalItems: 3 } },
        { type: "Note", name: "coffee", replies: { type: "Collection", totalItems: 1 } },
      ],
      endTime,
      votersCount: 4,
    });
    await deliver("fin_bob", create("fin_bob", question));
    const row = (await statusByUri(question.id as string))!;
    let { json: status } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expectMatchesSchema(status, "Status");
    expect(status.poll).toMatchObject({ multiple: false, votes_count: 4, voters_count: 4, expires_at: endTime });
    expect(status.poll.options).toEqual([{ title: "tea", votes_count: 3 }, { title: "coffee", votes_count: 1 }]);
    const recounted = { ...question, oneOf: [{ type: "Note", name: "tea", replies: { totalItems: 5 } }, { type: "Note", name: "coffee", replies: { totalItems: 2 } }], votersCount: 7 };
    await deliver("fin_bob", { id: nextId("updates"), type: "Update", actor: bob(), object: recounted });
    ({ json: status } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken }));
    expect(status.poll.options.map((o: { votes_count: number }) => o.votes_count)).toEqual([5, 2]);
    expect(status.poll.voters_count).toBe(7);
    expect(status.edited_at).toBeNull();
  });

  test("an Article is shown as its title and a link", async () => {
    const article = note("fin_bob", { type: "Article", name: "My <i>essay</i>", content: "<p>long body</p>", url: `${peer.base}/essay` });
    await deliver("fin_bob", create("fin_bob", article));
    const row = (await statusByUri(article.id as string))!;
    const { json: status } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expect(status.content).toContain("<p>My essay</p>");
    expect(status.content).toContain(`href="${peer.base}/essay"`);
    expect(status.content).not.toContain("long body");
  });

  test("Delete(Tombstone) removes the status for everyone; a Delete that arrives first keeps it from being created", async () => {
    const object = note("fin_bob", { content: "<p>regret</p>" });
    await deliver("fin_bob", create("fin_bob", object));
    const row = (await statusByUri(object.id as string))!;
    // Someone else cannot delete it.
    await deliver("fin_carol", { id: nextId("deletes"), type: "Delete", actor: carol(), object: { id: object.id, type: "Tombstone" } });
    expect((await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).status).toBe(200);
    await deliver("fin_bob", { id: nextId("deletes"), type: "Delete", actor: bob(), object: { id: object.id, type: "Tombstone" } });
    expect((await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken })).status).toBe(404);
    await waitFor("gone from home", async () => {
      const home = await api("GET", "/api/v1/timelines/home?limit=40", { token: aliceToken });
      return !home.json.some((s: { id: string }) => s.id === row.id);
    });

    const early = note("fin_bob");
    await deliver("fin_bob", { id: nextId("deletes"), type: "Delete", actor: bob(), object: early.id });
    await deliver("fin_bob", create("fin_bob", early));
    expect(await statusByUri(early.id as string)).toBeUndefined();
  });

  test("the same Note in two Creates (two inboxes, a retry) is one status, counted once", async () => {
    const object = note("fin_bob");
    const [before] = await context.sql<{ n: number }[]>`select statuses_count as n from accounts where id = ${bobId}`;
    await deliver("fin_bob", create("fin_bob", object));
    await deliver("fin_bob", { ...create("fin_bob", object), id: `${object.id}/activity-again` });
    const rows = await context.sql`select id from statuses where uri = ${object.id as string}`;
    expect(rows).toHaveLength(1);
    const [after] = await context.sql<{ n: number }[]>`select statuses_count as n from accounts where id = ${bobId}`;
    expect(after!.n).toBe(before!.n + 1);
  });

  test("a silenced domain's accounts are silenced as their activities arrive", async () => {
    const { blockDomain, unblockDomain } = await import("../../src/features/federation/domain-blocks");
    await blockDomain(context.sql, { domain: peer.host, severity: "silence" });
    try {
      // Workers remember severities for 30 s; this process's memory is cleared to see the block at once.
      forgetDomainSeverities();
      const result = await processActivity(context, { id: nextId("likes"), type: "Like", actor: carol(), object: `${ourBase}/nothing` }, "e".repeat(40));
      expect(result.outcome).toStartWith("ignored");
      const [row] = await context.sql<{ silenced_at: Date | null }[]>`select silenced_at from accounts where uri = ${carol()}`;
      expect(row!.silenced_at).not.toBeNull();
    } finally {
      await unblockDomain(context.sql, peer.host);
      forgetDomainSeverities();
      await context.sql`update accounts set silenced_at = null where uri = ${carol()}`;
    }
  });

  test("guards: a post in someone else's name, an unrelated post, an oversized one are not stored", async () => {
    const forged = note("fin_carol");
    await deliver("fin_bob", create("fin_bob", forged));
    expect(await statusByUri(forged.id as string)).toBeUndefined();
    // Nobody here follows eve, and the post addresses nobody here.
    const unrelated = note("fin_eve");
    await deliver("fin_eve", create("fin_eve", unrelated));
    expect(await statusByUri(unrelated.id as string)).toBeUndefined();
    // A Create naming its object by URI only: fetched from the origin, stored when it concerns us.
    const byRefPath = `/notes/by-ref-${Date.now()}`;
    const byRef = peer.addObject(byRefPath, { "@context": AS, ...note("fin_bob", { id: `${peer.base}${byRefPath}`, content: "<p>by reference</p>" }) });
    await deliver("fin_bob", { id: `${byRef}/activity`, type: "Create", actor: bob(), object: byRef });
    expect(await statusByUri(byRef)).toBeDefined();
    const evePath = `/notes/by-ref-eve-${Date.now()}`;
    const eveRef = peer.addObject(evePath, { "@context": AS, ...note("fin_eve", { id: `${peer.base}${evePath}` }) });
    await deliver("fin_eve", { id: `${eveRef}/activity`, type: "Create", actor: peer.actorUri("fin_eve"), object: eveRef });
    expect(await statusByUri(eveRef)).toBeUndefined();
    const huge = note("fin_bob", { content: `<p>${"x".repeat(150_000)}</p>` });
    await deliver("fin_bob", create("fin_bob", huge));
    expect(await statusByUri(huge.id as string)).toBeUndefined();
  });
});

describe("hostile shapes", () => {
  test("malformed activities of every handled type are ignored without an error and store nothing", async () => {
    const [before] = await context.sql<{ n: number }[]>`select count(*)::int as n from statuses`;
    const weird: unknown[] = [null, 42, "javascript:alert(1)", [], [null], { id: 5 }, { type: ["Note", "Question"] }, { id: `${bob()}/x`, type: "Note", attributedTo: { id: 7 } }];
    const types = ["Create", "Update", "Delete", "Announce", "Like", "EmojiReact", "Undo", "Follow", "Accept", "Reject", "Block", "Flag", "Move", "Add", "Remove", "Bogus"];
    let n = 0;
    for (const type of types) {
      for (const object of weird) {
        const activity = { id: `${peer.base}/weird/${Date.now()}-${n++}`, type, actor: bob(), object, target: object, to: object, cc: object };
        const result = await processActivity(context, activity as Record<string, unknown>, (n.toString(16) + "0".repeat(40)).slice(0, 40));
        expect(result.outcome === "unsupported" || result.outcome.startsWith("ignored") || result.outcome === "duplicate").toBe(true);
      }
    }
    const [after] = await context.sql<{ n: number }[]>`select count(*)::int as n from statuses`;
    expect(after!.n).toBe(before!.n);
  });
});

describe("interactions from remote accounts", () => {
  let local: { id: string; uri: string };

  beforeAll(async () => {
    const posted = await api("POST", "/api/v1/statuses", { token: aliceToken, json: { status: "local post", visibility: "public" } });
    local = { id: posted.json.id, uri: posted.json.uri };
  });

  test("Like (Fedify) → favourite and notification; Undo removes both", async () => {
    const likeId = nextId("likes");
    await peer.send("fin_bob", { uri: alice.uri, inbox: `${alice.uri}/inbox` }, new Like({ id: new URL(likeId), actor: new URL(bob()), object: new URL(local.uri) }));
    await waitFor("the favourite", async () => (await api("GET", `/api/v1/statuses/${local.id}`, { token: aliceToken })).json.favourites_count === 1);
    const notification = await waitFor("the notification", async () => {
      const n = await api("GET", "/api/v1/notifications?types[]=favourite", { token: aliceToken });
      return n.json.find((x: { status?: { id: string } }) => x.status?.id === local.id);
    });
    expectMatchesSchema(notification, "Notification");
    await deliver("fin_bob", { id: nextId("undos"), type: "Undo", actor: bob(), object: { id: likeId, type: "Like", actor: bob(), object: local.uri } });
    expect((await api("GET", `/api/v1/statuses/${local.id}`, { token: aliceToken })).json.favourites_count).toBe(0);
    const after = await api("GET", "/api/v1/notifications?types[]=favourite", { token: aliceToken });
    expect(after.json.some((x: { status?: { id: string } }) => x.status?.id === local.id)).toBe(false);
  });

  test("Misskey's Like with a reaction and an EmojiReact count as favourites", async () => {
    await deliver("fin_carol", { id: nextId("likes"), type: "Like", actor: carol(), object: local.uri, content: "🍮", _misskey_reaction: "🍮" });
    await deliver("fin_eve", { id: nextId("reacts"), type: "EmojiReact", actor: peer.actorUri("fin_eve"), object: local.uri, content: "👍" });
    expect((await api("GET", `/api/v1/statuses/${local.id}`, { token: aliceToken })).json.favourites_count).toBe(2);
  });

  test("Announce of a local post → a boost by the remote account; Undo(Announce) removes it", async () => {
    const announceId = nextId("announces");
    await deliver("fin_bob", { id: announceId, type: "Announce", actor: bob(), object: local.uri, to: [PUBLIC], cc: [`${bob()}/followers`], published: new Date().toISOString() });
    const { json: status } = await api("GET", `/api/v1/statuses/${local.id}`, { token: aliceToken });
    expect(status.reblogs_count).toBe(1);
    await waitFor("the reblog notification", async () => {
      const n = await api("GET", "/api/v1/notifications?types[]=reblog", { token: aliceToken });
      return n.json.some((x: { status?: { id: string } }) => x.status?.id === local.id);
    });
    const { json: boost } = await api("GET", `/api/v1/statuses/${(await statusByUri(announceId))!.id}`, { token: aliceToken });
    expectMatchesSchema(boost, "Status");
    expect(boost.account.acct).toBe(`fin_bob@${peer.host}`);
    expect(boost.reblog.id).toBe(local.id);
    await deliver("fin_bob", { id: nextId("undos"), type: "Undo", actor: bob(), object: { id: announceId, type: "Announce", actor: bob(), object: local.uri } });
    expect((await api("GET", `/api/v1/statuses/${local.id}`, { token: aliceToken })).json.reblogs_count).toBe(0);
  });

  test("an Announce that concerns nobody here (booster without local followers, post not ours) is not fetched", async () => {
    const path = `/notes/unrelated-boost-${Date.now()}`;
    const uri = peer.addObject(path, { "@context": AS, ...note("fin_carol", { id: `${peer.base}${path}` }) });
    const fetchesBefore = peer.signedFetches.length;
    await deliver("fin_eve", { id: nextId("announces"), type: "Announce", actor: peer.actorUri("fin_eve"), object: uri, to: [PUBLIC] });
    expect(await statusByUri(uri)).toBeUndefined();
    expect(peer.signedFetches.length).toBe(fetchesBefore);
    // Eve boosting a post of ours is fine.
    await deliver("fin_eve", { id: nextId("announces"), type: "Announce", actor: peer.actorUri("fin_eve"), object: local.uri, to: [PUBLIC] });
    expect((await api("GET", `/api/v1/statuses/${local.id}`, { token: aliceToken })).json.reblogs_count).toBe(1);
  });

  test("Announce of a post that is gone (404) is dropped, not retried", async () => {
    const missing = `${peer.base}/notes/gone-${Date.now()}`;
    await deliver("fin_bob", { id: nextId("announces"), type: "Announce", actor: bob(), object: missing, to: [PUBLIC] });
    expect(await statusByUri(missing)).toBeUndefined();
  });

  test("Announce of a remote post we do not have fetches it (signed GET) first", async () => {
    const path = `/notes/boosted-${Date.now()}`;
    const uri = peer.addObject(path, { "@context": AS, ...note("fin_carol", { id: `${peer.base}${path}`, content: "<p>worth a boost</p>" }) });
    await deliver("fin_bob", { id: nextId("announces"), type: "Announce", actor: bob(), object: uri, to: [PUBLIC] });
    const original = (await statusByUri(uri))!;
    const { json } = await api("GET", `/api/v1/statuses/${original.id}`, { token: aliceToken });
    expect(json.content).toBe("<p>worth a boost</p>");
    expect(json.reblogs_count).toBe(1);
    expect(json.account.acct).toBe(`fin_carol@${peer.host}`);
    // Alice follows bob: his boost of carol's post is in her home, as a reblog.
    const boost = await waitFor("the boost in home", async () => {
      const home = await api("GET", "/api/v1/timelines/home?limit=40", { token: aliceToken });
      return home.json.find((s: { reblog?: { id: string } }) => s.reblog?.id === original.id);
    });
    expect(boost.account.acct).toBe(`fin_bob@${peer.host}`);
  });
});

describe("pinned posts", () => {
  test("Add / Remove on the actor's featured collection pin and unpin its own post; other targets are ignored", async () => {
    const object = note("fin_bob", { content: "<p>pin me</p>" });
    await deliver("fin_bob", create("fin_bob", object));
    const row = (await statusByUri(object.id as string))!;
    const pinned = async () => (await api("GET", `/api/v1/accounts/${bobId}/statuses?pinned=true`, { token: aliceToken })).json.map((s: { id: string }) => s.id);
    await deliver("fin_bob", { id: nextId("adds"), type: "Add", actor: bob(), object: object.id, target: `${carol()}/collections/featured` });
    expect(await pinned()).toEqual([]);
    await deliver("fin_bob", { id: nextId("adds"), type: "Add", actor: bob(), object: object.id, target: `${bob()}/collections/featured` });
    expect(await pinned()).toEqual([row.id]);
    await deliver("fin_bob", { id: nextId("removes"), type: "Remove", actor: bob(), object: object.id, target: `${bob()}/collections/featured` });
    expect(await pinned()).toEqual([]);
  });
});

describe("reports from other servers", () => {
  test("Flag → a report about the local account with its statuses, once per Flag id", async () => {
    const posted = await api("POST", "/api/v1/statuses", { token: aliceToken, json: { status: "reported post", visibility: "public" } });
    const flag = { id: nextId("flags"), type: "Flag", actor: bob(), object: [alice.uri, posted.json.uri, `${peer.base}/notes/not-ours`], content: "spam <b>spam</b>" };
    await deliver("fin_bob", flag);
    await deliver("fin_bob", { ...flag, id: flag.id });
    const reports = await context.sql<{ comment: string; status_ids: string[] }[]>`
      select comment, status_ids::text[] from reports where target_account_id = ${alice.id} and account_id = ${bobId}`;
    expect(reports).toHaveLength(1);
    expect(reports[0]!.comment).toBe("spam spam");
    expect(reports[0]!.status_ids).toEqual([posted.json.id]);
  });
});

describe("resolveQuery (search with resolve=true)", () => {
  test("a handle, an actor URL and a post URL", async () => {
    const byHandle = await resolveQuery(context, `@fin_eve@${peer.host}`);
    expect(byHandle.accountIds).toHaveLength(1);
    const byUrl = await resolveQuery(context, carol());
    expect(byUrl.accountIds).toEqual([(await findRemoteByUri(context.sql, carol()))!.id]);
    const path = `/notes/resolved-${Date.now()}`;
    const uri = peer.addObject(path, { "@context": AS, ...note("fin_eve", { id: `${peer.base}${path}`, content: "<p>found</p>" }) });
    const byPost = await resolveQuery(context, uri);
    expect(byPost.statusIds).toHaveLength(1);
    expect((await api("GET", `/api/v1/statuses/${byPost.statusIds[0]}`, { token: aliceToken })).json.content).toBe("<p>found</p>");
    // A post's public URL answers with the object whose id differs: stored under its id.
    const idPath = `/notes/canonical-${Date.now()}`;
    const canonical = { "@context": AS, ...note("fin_eve", { id: `${peer.base}${idPath}`, content: "<p>canonical</p>" }) };
    peer.addObject(idPath, canonical);
    const pretty = peer.addObject(`/@fin_eve/pretty-${Date.now()}`, canonical);
    const byPrettyUrl = await resolveQuery(context, pretty);
    expect(byPrettyUrl.statusIds).toHaveLength(1);
    expect((await statusByUri(`${peer.base}${idPath}`))?.id).toBe(byPrettyUrl.statusIds[0]);
    // Our own post by its URI is found without a fetch.
    const own = await api("POST", "/api/v1/statuses", { token: aliceToken, json: { status: "find me", visibility: "public" } });
    expect((await resolveQuery(context, own.json.uri)).statusIds).toEqual([own.json.id]);
    // A missing post, nonsense and unreachable hosts find nothing and throw nothing.
    expect((await resolveQuery(context, `${peer.base}/notes/missing`)).statusIds).toEqual([]);
    expect(await resolveQuery(context, "not a query at all")).toEqual({ accountIds: [], statusIds: [] });
    expect(await resolveQuery(context, "https://127.0.0.1:1/nothing")).toEqual({ accountIds: [], statusIds: [] });
  });
});

describe("Move (last: it takes alice's follow of bob away)", () => {
  test("followers move to the new account only when it names the old one in alsoKnownAs", async () => {
    const person = (path: string, name: string, aliases: string[]) =>
      peer.addObject(path, { "@context": AS, id: `${peer.base}${path}`, type: "Person", preferredUsername: name, inbox: `${peer.base}${path}/inbox`, alsoKnownAs: aliases });
    const stranger = person("/moved/fin_stranger", "fin_stranger", []);
    await deliver("fin_bob", { id: nextId("moves"), type: "Move", actor: bob(), object: bob(), target: stranger });
    const [still] = await context.sql`select 1 from follows where account_id = ${alice.id} and target_account_id = ${bobId}`;
    expect(still).toBeDefined();

    const newBob = person("/moved/fin_bob2", "fin_bob2", [bob()]);
    await deliver("fin_bob", { id: nextId("moves"), type: "Move", actor: bob(), object: bob(), target: newBob });
    const [old] = await context.sql`select 1 from follows where account_id = ${alice.id} and target_account_id = ${bobId}`;
    expect(old).toBeUndefined();
    const moved = (await findRemoteByUri(context.sql, newBob))!;
    const relationship = await api("GET", `/api/v1/accounts/relationships?id[]=${moved.id}`, { token: aliceToken });
    expect(relationship.json[0].requested || relationship.json[0].following).toBe(true);
  });
});

describe("poll votes across servers", () => {
  test("our vote on a remote poll reaches its author as Create(Note{name}) to them only", async () => {
    const push = startWorkers({ queues: ["push"], concurrency: 2, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      const question = note("fin_carol", {
        type: "Question",
        content: "<p>cats or dogs?</p>",
        cc: [alice.uri],
        anyOf: [
          { type: "Note", name: "cats", replies: { type: "Collection", totalItems: 0 } },
          { type: "Note", name: "dogs", replies: { type: "Collection", totalItems: 0 } },
        ],
        endTime: new Date(Date.now() + 3600_000).toISOString(),
      });
      await deliver("fin_carol", create("fin_carol", question));
      const row = (await statusByUri(question.id as string))!;
      const { json: status } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
      const voted = await api("POST", `/api/v1/polls/${status.poll.id}/votes`, { token: aliceToken, json: { choices: ["0", "1"] } });
      expect(voted.status).toBe(200);
      for (const name of ["cats", "dogs"]) {
        const received = await peer.waitForActivity((r) => r.type === "Create" && (r.json.object as { name?: string })?.name === name);
        const object = received.json.object as Record<string, unknown>;
        expect(object).toMatchObject({ type: "Note", inReplyTo: question.id, attributedTo: alice.uri, to: [carol()] });
        expect(received.json.to).toEqual([carol()]);
        expect(JSON.stringify(received.json)).not.toContain(PUBLIC);
      }
    } finally {
      await push.close(5000);
    }
  });

  test("a remote vote on our poll is counted once, within the poll's rules, and stores no status", async () => {
    const posted = await api("POST", "/api/v1/statuses", { token: aliceToken, json: { status: "tabs or spaces?", visibility: "public", poll: { options: ["tabs", "spaces"], expires_in: 3600 } } });
    expect(posted.status).toBe(200);
    const [{ uri }] = (await context.sql<{ uri: string }[]>`select uri from statuses where id = ${posted.json.id}`) as unknown as [{ uri: string }];
    const vote = (name: string) => {
      const id = nextId("votes");
      return { id: `${id}/activity`, type: "Create", actor: bob(), to: [alice.uri], object: { id, type: "Note", name, attributedTo: bob(), to: [alice.uri], inReplyTo: uri } };
    };
    const first = vote("spaces");
    await deliver("fin_bob", first);
    await deliver("fin_bob", vote("spaces")); // the same choice again: not counted twice
    await deliver("fin_bob", vote("tabs")); // a second option of a single-choice poll: refused
    const { json: poll } = await api("GET", `/api/v1/polls/${posted.json.poll.id}`, { token: aliceToken });
    expectMatchesSchema(poll, "Poll");
    expect(poll.votes_count).toBe(1);
    expect(poll.voters_count).toBe(1);
    expect(poll.options.map((o: { votes_count: number }) => o.votes_count)).toEqual([0, 1]);
    expect(await statusByUri(first.object.id)).toBeUndefined();
  });
});
