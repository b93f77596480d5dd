/**
 * Custom emojis across federation (issue 6) and the "moved" mark (issue 9), end to end: a Fedify peer on
 * loopback sends Notes and actor documents with Emoji tags; real workers process them; masto.js reads the
 * statuses and accounts back (checked against Mastodon's OpenAPI schema). Our own Notes and actor carry
 * Emoji tags for the local emojis they use. Remote emoji images are references: a counting image server
 * proves they are never downloaded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Create, Emoji, Image, Note } from "@fedify/vocab";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { importEmoji } from "../../src/features/custom-emojis/service";
import { activityKey } from "../../src/features/federation/inbox";
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
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let peer: FedifyPeer;
/** Where the remote emoji images "are": counts every request it gets. */
let images: ReturnType<typeof Bun.serve>;
let imageHits = 0;
const api = inProcessApi(() => app);

let alice: LocalAccountRow;
let aliceToken: string;
let bobId: string;

const bob = () => peer.actorUri("em_bob");
const imageUrl = (name: string) => `http://127.0.0.1:${images.port}/${name}.png`;
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
async function deliver(from: string, activity: Record<string, unknown>, keyId?: string): Promise<void> {
  const body = JSON.stringify({ "@context": AS, ...activity });
  const response = await peer.postSigned(from, `${ourBase}/inbox`, body, keyId ? { keyId } : {});
  expect(response.status).toBe(202);
  const key = activityKey(JSON.parse(body), body);
  const job = await waitFor("the ingress job", async () => {
    const found = await context.queues.queue("ingress").getJob(`ap-${key}`);
    return found?.finishedOn ? found : undefined;
  });
  expect(job.failedReason ?? "").toBe("");
}

async function statusByUri(uri: string): Promise<{ id: string } | undefined> {
  const [row] = await context.sql<{ id: string }[]>`select id::text from statuses where uri = ${uri} and deleted_at is null`;
  return row;
}

const emojiTag = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
  type: "Emoji",
  name: `:${name}:`,
  updated: "2026-11-01T00:00:00Z",
  icon: { type: "Image", mediaType: "image/png", url },
  ...extra,
});

/** An actor the test writes itself, served by the peer (signed GETs) and signing with em_bob's key. */
async function servedActor(path: string, name: string, extra: Record<string, unknown> = {}): Promise<{ uri: string; keyId: string }> {
  const uri = `${peer.base}${path}`;
  peer.addObject(path, {
    "@context": [AS, "https://w3id.org/security/v1"],
    id: uri,
    type: "Person",
    preferredUsername: name,
    inbox: `${uri}/inbox`,
    publicKey: { id: `${uri}#main-key`, owner: uri, publicKeyPem: await peer.pem("em_bob", "public") },
    ...extra,
  });
  return { uri, keyId: `${uri}#main-key` };
}

beforeAll(async () => {
  images = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => {
      imageHits++;
      return new Response(PNG, { headers: { "content-type": "image/png" } });
    },
  });
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  context = await testContext({ LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" });
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["ingress", "pull", "default"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  peer = await startFedifyPeer({ users: ["em_bob"] });
  const a = await makeTestUser(context, "em_alice", { scopes: "read write follow" });
  alice = a.account;
  aliceToken = a.token!;
  bobId = (await resolveRemoteAccount(context, `em_bob@${peer.host}`))!.id;
  // alice follows bob, so bob's public posts concern us.
  await context.sql`insert into follows (account_id, target_account_id) values (${alice.id}, ${bobId})`;
});

afterAll(async () => {
  await workers?.close(5000);
  for (const job of (await context?.queues.queue("pull").getJobs(["delayed", "waiting", "failed"])) ?? []) {
    if (JSON.stringify(job?.data ?? {}).includes(peer.base)) await job.remove().catch(() => {});
  }
  if (peer && context) {
    await context.sql`delete from accounts where domain = ${peer.host}`;
    await context.sql`delete from custom_emojis where domain = ${peer.host} or shortcode like 'em\\_%'`;
  }
  ours?.stop(true);
  images?.stop(true);
  peer?.close();
  await context?.close();
});

describe("inbound Emoji tags", () => {
  test("a Note's Emoji tags (sent by Fedify) become the status's emojis; the image is not downloaded", async () => {
    const noteId = nextId("notes");
    await peer.send(
      "em_bob",
      { uri: alice.uri, inbox: `${alice.uri}/inbox` },
      new Create({
        id: new URL(`${noteId}/activity`),
        actor: new URL(bob()),
        to: new URL(PUBLIC),
        object: new Note({
          id: new URL(noteId),
          attribution: new URL(bob()),
          content: "<p>hello :em_blob: and :em_unknown:</p>",
          to: new URL(PUBLIC),
          published: Temporal.Now.instant(),
          tags: [new Emoji({ id: new URL(`${peer.base}/emojis/1`), name: ":em_blob:", icon: new Image({ url: new URL(imageUrl("blob")), mediaType: "image/png" }) })],
        }),
      }),
    );
    const row = await waitFor("the status", () => statusByUri(noteId));
    const masto = createRestAPIClient({ url: ourBase, accessToken: aliceToken });
    const status = await masto.v1.statuses.$select(row.id).fetch();
    expect(status.emojis).toEqual([{ shortcode: "em_blob", url: imageUrl("blob"), staticUrl: imageUrl("blob"), visibleInPicker: true, category: null }]);
    const raw = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expectMatchesSchema(raw.json, "Status");
    const [stored] = await context.sql`select domain, image_url, image_key from custom_emojis where shortcode = 'em_blob' and domain is not null`;
    expect(stored).toMatchObject({ domain: peer.host, image_url: imageUrl("blob"), image_key: null });
    expect(imageHits).toBe(0);
  });

  test("a Question's option titles show their emojis as Poll.emojis and Status.emojis (JSON as Mastodon sends it)", async () => {
    const questionId = nextId("questions");
    await deliver("em_bob", {
      id: `${questionId}/activity`,
      type: "Create",
      actor: bob(),
      to: [PUBLIC],
      object: {
        id: questionId,
        type: "Question",
        attributedTo: bob(),
        to: [PUBLIC],
        content: "<p>Pick one</p>",
        published: new Date().toISOString(),
        endTime: new Date(Date.now() + 3600_000).toISOString(),
        oneOf: [
          { type: "Note", name: "Cat :em_qcat:", replies: { type: "Collection", totalItems: 0 } },
          { type: "Note", name: "Dog", replies: { type: "Collection", totalItems: 0 } },
        ],
        tag: [{ id: `${peer.base}/emojis/qcat`, type: "Emoji", name: ":em_qcat:", icon: { type: "Image", mediaType: "image/png", url: imageUrl("qcat") } }],
      },
    });
    const row = await waitFor("the poll's status", () => statusByUri(questionId));
    const raw = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expect(raw.json.poll.options.map((o: { title: string }) => o.title)).toEqual(["Cat :em_qcat:", "Dog"]);
    expect(raw.json.poll.emojis).toEqual([{ shortcode: "em_qcat", url: imageUrl("qcat"), static_url: imageUrl("qcat"), visible_in_picker: true, category: null }]);
    // The status lists them too, as Mastodon's does (its emojis come from the text, the CW and the options).
    expect(raw.json.emojis.map((e: { shortcode: string }) => e.shortcode)).toEqual(["em_qcat"]);
    expectMatchesSchema(raw.json, "Status");
    expect(imageHits).toBe(0);
  });

  test("hostile tags are refused: bad shortcode, javascript:/data: URLs, too many; a later Update refreshes the URL", async () => {
    const many = Array.from({ length: 80 }, (_, i) => emojiTag(`em_many${i}`, imageUrl(`m${i}`)));
    const note = {
      id: nextId("notes"),
      type: "Note",
      attributedTo: bob(),
      content: "<p>:em_bad name: :em_js: :em_data: :em_many0: :em_many79:</p>",
      published: new Date().toISOString(),
      to: [PUBLIC],
      tag: [
        emojiTag("em_bad name", imageUrl("bad")),
        emojiTag("em_js", "javascript:alert(1)"),
        emojiTag("em_data", "data:image/png;base64,AAAA"),
        { type: "Emoji", name: ":em_noicon:" },
        emojiTag("em_long", `https://example.com/${"a".repeat(3000)}.png`),
        ...many,
      ],
    };
    await deliver("em_bob", { id: `${note.id}/activity`, type: "Create", actor: bob(), object: note, to: note.to });
    const stored = await context.sql<{ shortcode: string }[]>`select shortcode from custom_emojis where domain = ${peer.host} and shortcode <> 'em_blob'`;
    const names = stored.map((r) => r.shortcode);
    expect(names.filter((n) => n.startsWith("em_many")).length).toBe(50);
    for (const refused of ["em_bad name", "em_js", "em_data", "em_noicon", "em_long"]) expect(names).not.toContain(refused);
    const row = (await statusByUri(note.id))!;
    const { json: status } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expect(status.emojis.map((e: { shortcode: string }) => e.shortcode)).toEqual(["em_many0"]);

    // Update of the status with a new image URL for the same shortcode: the stored reference follows.
    const updated = { ...note, content: "<p>edited :em_many0:</p>", updated: new Date(Date.now() + 2000).toISOString(), tag: [emojiTag("em_many0", imageUrl("m0-v2"))] };
    await deliver("em_bob", { id: nextId("updates"), type: "Update", actor: bob(), object: updated, to: note.to });
    const { json: after } = await api("GET", `/api/v1/statuses/${row.id}`, { token: aliceToken });
    expect(after.emojis).toEqual([{ shortcode: "em_many0", url: imageUrl("m0-v2"), static_url: imageUrl("m0-v2"), visible_in_picker: true, category: null }]);
    expect(imageHits).toBe(0);
  });

  test("an actor's Emoji tags (name, bio) show as Account.emojis; another server's same shortcode stays its own", async () => {
    const dan = await servedActor("/actors/em_dan", "em_dan", {
      name: "Dan :em_wave:",
      summary: "<p>bio :em_blob:</p>",
      tag: [emojiTag("em_wave", imageUrl("wave")), emojiTag("em_blob", imageUrl("blob"))],
    });
    // Any signed activity makes us fetch the actor (its key): a Like of nothing will do.
    await deliver("em_bob", { id: nextId("likes"), type: "Like", actor: dan.uri, object: `${peer.base}/notes/none` }, dan.keyId);
    const account = (await findRemoteByUri(context.sql, dan.uri))!;
    const masto = createRestAPIClient({ url: ourBase, accessToken: aliceToken });
    const entity = await masto.v1.accounts.$select(account.id).fetch();
    expect(entity.emojis.map((e) => [e.shortcode, e.url])).toEqual([
      ["em_blob", imageUrl("blob")],
      ["em_wave", imageUrl("wave")],
    ]);
    const { json } = await api("GET", `/api/v1/accounts/${account.id}`, { token: aliceToken });
    expectMatchesSchema(json, "Account");
    // A local account naming :em_wave: gets nothing: that emoji belongs to the peer.
    await context.sql`update accounts set display_name = 'Alice :em_wave:' where id = ${alice.id}`;
    const { json: mine } = await api("GET", `/api/v1/accounts/${alice.id}`, { token: aliceToken });
    expect(mine.emojis).toEqual([]);
    expect(imageHits).toBe(0);
  });
});

describe("outbound Emoji tags and local emojis in the API", () => {
  test("our Note and our actor carry Emoji tags for the local emojis they use; the API lists them", async () => {
    await importEmoji(context, { shortcode: "em_party", bytes: PNG, category: "Em" });
    await context.sql`update accounts set display_name = 'Alice :em_party:' where id = ${alice.id}`;
    const masto = createRestAPIClient({ url: ourBase, accessToken: aliceToken });
    const posted = await masto.v1.statuses.create({ status: "party :em_party: time :em_nope:" });
    expect(posted.emojis.map((e) => e.shortcode)).toEqual(["em_party"]);
    expect(posted.emojis[0]!.url).toStartWith(ourBase);
    expect(posted.account.emojis.map((e) => e.shortcode)).toEqual(["em_party"]);
    const { json } = await api("GET", `/api/v1/statuses/${posted.id}`, { token: aliceToken });
    expectMatchesSchema(json, "Status");

    type Json = { tag: Record<string, unknown>[]; "@context": unknown };
    const note = (await (await fetch(`${ourBase}/users/em_alice/statuses/${posted.id}`, { headers: { accept: "application/activity+json" } })).json()) as Json;
    const emojiTags = note.tag.filter((t) => t.type === "Emoji");
    expect(emojiTags).toEqual([{ type: "Emoji", name: ":em_party:", updated: expect.any(String), icon: { type: "Image", mediaType: "image/png", url: posted.emojis[0]!.url } }]);
    expect(JSON.stringify(note["@context"])).toContain("toot:Emoji");

    const actor = (await (await fetch(`${ourBase}/users/em_alice`, { headers: { accept: "application/activity+json" } })).json()) as Json;
    expect(actor.tag.map((t) => t.name)).toEqual([":em_party:"]);
  });

  test("a profile written before the emoji existed shows it once imported; disabling hides it", async () => {
    const { account: carl } = await makeTestUser(context, "em_carl");
    await context.sql`update accounts set note = 'I like :em_later:' where id = ${carl.id}`;
    expect((await api("GET", `/api/v1/accounts/${carl.id}`)).json.emojis).toEqual([]);
    const { row } = await importEmoji(context, { shortcode: "em_later", bytes: PNG });
    expect((await api("GET", `/api/v1/accounts/${carl.id}`)).json.emojis.map((e: { shortcode: string }) => e.shortcode)).toEqual(["em_later"]);
    const { changeEmoji } = await import("../../src/features/custom-emojis/service");
    await changeEmoji(context, row!.id, { disabled: true });
    expect((await api("GET", `/api/v1/accounts/${carl.id}`)).json.emojis).toEqual([]);
  });
});

describe("moved accounts", () => {
  test("Move marks the old account; Account.moved renders the new one", async () => {
    const erin = await servedActor("/actors/em_erin", "em_erin");
    const erin2 = await servedActor("/actors/em_erin2", "em_erin2", { alsoKnownAs: [erin.uri] });
    await deliver("em_bob", { id: nextId("moves"), type: "Move", actor: erin.uri, object: erin.uri, target: erin2.uri }, erin.keyId);
    const old = (await findRemoteByUri(context.sql, erin.uri))!;
    const target = (await findRemoteByUri(context.sql, erin2.uri))!;
    const [row] = await context.sql`select moved_to_account_id::text from accounts where id = ${old.id}`;
    expect(row!.moved_to_account_id).toBe(target.id);
    const masto = createRestAPIClient({ url: ourBase, accessToken: aliceToken });
    const entity = await masto.v1.accounts.$select(old.id).fetch();
    expect(entity.moved?.id).toBe(target.id);
    expect(entity.moved?.acct).toBe(`em_erin2@${peer.host}`);
    const { json } = await api("GET", `/api/v1/accounts/${old.id}`);
    expectMatchesSchema(json, "Account");
    expect((await api("GET", `/api/v1/accounts/${target.id}`)).json.moved).toBeUndefined();

    // The target's row going forgets the mark (on delete set null).
    await context.sql`delete from accounts where id = ${target.id}`;
    expect((await api("GET", `/api/v1/accounts/${old.id}`)).json.moved).toBeUndefined();
  });

  test("Update(Person) with movedTo sets the mark; without it, the mark goes", async () => {
    const fay2 = await servedActor("/actors/em_fay2", "em_fay2");
    const fay = await servedActor("/actors/em_fay", "em_fay");
    await deliver("em_bob", { id: nextId("likes"), type: "Like", actor: fay.uri, object: `${peer.base}/notes/none` }, fay.keyId);
    const account = (await findRemoteByUri(context.sql, fay.uri))!;
    expect((await api("GET", `/api/v1/accounts/${account.id}`)).json.moved).toBeUndefined();

    await servedActor("/actors/em_fay", "em_fay", { movedTo: fay2.uri });
    await deliver("em_bob", { id: nextId("updates"), type: "Update", actor: fay.uri, object: { id: fay.uri, type: "Person" } }, fay.keyId);
    const { json } = await api("GET", `/api/v1/accounts/${account.id}`);
    expect(json.moved?.acct).toBe(`em_fay2@${peer.host}`);

    await servedActor("/actors/em_fay", "em_fay");
    await deliver("em_bob", { id: nextId("updates"), type: "Update", actor: fay.uri, object: { id: fay.uri, type: "Person" } }, fay.keyId);
    expect((await api("GET", `/api/v1/accounts/${account.id}`)).json.moved).toBeUndefined();
  });
});
