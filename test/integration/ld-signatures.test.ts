/**
 * Linked Data Signatures (RsaSignature2017; issues 6 and 9): src/features/federation/ld-signatures.ts against
 * Fedify's own LD signer / verifier, hostile documents, and the relay flow with a relay written with Fedify on
 * loopback (test/helpers/fedify-peer.ts): `ld_relay` is the relay, `ld_author` writes the posts it forwards,
 * `ld_fwd` is an ordinary server's actor forwarding someone else's activity to a local user.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signJsonLd, verifyJsonLd } from "@fedify/fedify";
import { getDocumentLoader } from "@fedify/vocab-runtime";
import { buildWebApp } from "../../src/api/app";
import { ldHash, MAX_LD_NODES, signIfDistributable, signLdDocument, verifyForwardedActivity, verifyLdSignature, type LdKeyLookup } from "../../src/features/federation/ld-signatures";
import { createActivity } from "../../src/features/federation/activities";
import { loadStatus } from "../../src/features/federation/outbound";
import { addRelay, forgetRelayCache } from "../../src/features/relays/service";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { inProcessApi } from "../helpers/api";
import { waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { rsaKeyPair, startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { tearDownRelayTest } from "../helpers/relay-test";
import { makeTestUser } from "../helpers/users";

const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let peer: FedifyPeer;
let token: string;
let aliceId: string;
const api = inProcessApi(() => app);
let seq = 0;

const author = () => peer.actorUri("ld_author");
const relayActor = () => peer.actorUri("ld_relay");

async function pemPair(): Promise<{ privatePem: string; publicPem: string; pair: CryptoKeyPair }> {
  const pair = await rsaKeyPair();
  const pem = async (key: CryptoKey, kind: "pkcs8" | "spki", label: string) =>
    `-----BEGIN ${label}-----\n${Buffer.from(await crypto.subtle.exportKey(kind, key)).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
  return { pair, privatePem: await pem(pair.privateKey, "pkcs8", "PRIVATE KEY"), publicPem: await pem(pair.publicKey, "spki", "PUBLIC KEY") };
}

/** A Create of a Note, shaped as Mastodon sends it (its extension terms defined inline). */
function createNote(actor: string, noteId: string, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "@context": [AS, { sensitive: "as:sensitive", toot: "http://joinmastodon.org/ns#", blurhash: "toot:blurhash", Hashtag: "as:Hashtag" }],
    id: `${noteId}/activity`,
    type: "Create",
    actor,
    published: "2026-11-22T09:00:00Z",
    to: [PUBLIC],
    cc: [`${actor}/followers`],
    object: {
      id: noteId,
      type: "Note",
      attributedTo: actor,
      content,
      published: "2026-11-22T09:00:00Z",
      sensitive: false,
      to: [PUBLIC],
      cc: [`${actor}/followers`],
      tag: [{ type: "Hashtag", name: "#ld", href: "https://example.com/tags/ld" }],
      ...extra,
    },
  };
}

describe("signing and verifying", () => {
  const ACTOR = "https://ld.example/users/ld_writer";
  const KEY_ID = `${ACTOR}#main-key`;
  let keys: Awaited<ReturnType<typeof pemPair>>;
  let lookup: LdKeyLookup;
  let lookups: number;
  /** An actor document for Fedify's verifier; its contexts come from Fedify's preloaded loader (no network). */
  let fedifyLoader: (url: string) => Promise<{ contextUrl: null; documentUrl: string; document: unknown }>;

  beforeAll(async () => {
    keys = await pemPair();
    lookups = 0;
    lookup = async () => {
      lookups++;
      return { owner: ACTOR, pem: keys.publicPem };
    };
    const preloaded = getDocumentLoader();
    fedifyLoader = async (url: string) => {
      if (url === ACTOR || url === KEY_ID) {
        return {
          contextUrl: null,
          documentUrl: ACTOR,
          document: {
            "@context": [AS, "https://w3id.org/security/v1"],
            id: ACTOR,
            type: "Person",
            inbox: `${ACTOR}/inbox`,
            publicKey: { id: KEY_ID, owner: ACTOR, publicKeyPem: keys.publicPem },
          },
        };
      }
      return (await preloaded(url)) as never;
    };
  });

  test("a document we sign verifies with ours, and with Fedify's verifyJsonLd", async () => {
    const signed = await signLdDocument(createNote(ACTOR, "https://ld.example/notes/1", "<p>hello</p>"), { keyId: KEY_ID, privateKeyPem: keys.privatePem });
    const signature = signed.signature as Record<string, string>;
    expect(signature.type).toBe("RsaSignature2017");
    expect(signature.creator).toBe(KEY_ID);
    expect(signature.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(signed["@context"]).toContain("https://w3id.org/security/v1");
    expect(await verifyLdSignature(signed, lookup)).toEqual({ status: "verified", owner: ACTOR, keyId: KEY_ID });
    expect(await verifyJsonLd(signed, { documentLoader: fedifyLoader, contextLoader: fedifyLoader })).toBe(true);
  });

  test("a document signed by Fedify's signJsonLd verifies with ours", async () => {
    const document = createNote(ACTOR, "https://ld.example/notes/2", "<p>from fedify</p>");
    const signed = (await signJsonLd(document, keys.pair.privateKey, new URL(KEY_ID), { contextLoader: fedifyLoader })) as Record<string, unknown>;
    expect(await verifyLdSignature(signed, lookup)).toMatchObject({ status: "verified", owner: ACTOR });
    // And the canonical hash we compute is the one Fedify signed: changing nothing but the key order keeps it.
    const reordered = Object.fromEntries(Object.entries(signed).reverse());
    expect(await verifyLdSignature(reordered, lookup)).toMatchObject({ status: "verified" });
  });

  test("tampered content, tampered options, another key and a wrong type are refused", async () => {
    const signed = await signLdDocument(createNote(ACTOR, "https://ld.example/notes/3", "<p>original</p>"), { keyId: KEY_ID, privateKeyPem: keys.privatePem });
    const object = signed.object as Record<string, unknown>;
    const content = { ...signed, object: { ...object, content: "<p>forged</p>" } };
    expect(await verifyLdSignature(content, lookup)).toMatchObject({ status: "invalid" });
    const addressing = { ...signed, object: { ...object, to: [`${ACTOR}/followers`] } };
    expect(await verifyLdSignature(addressing, lookup)).toMatchObject({ status: "invalid" });
    const signature = signed.signature as Record<string, unknown>;
    const options = { ...signed, signature: { ...signature, created: "2020-01-01T00:00:00Z" } };
    expect(await verifyLdSignature(options, lookup)).toMatchObject({ status: "invalid" });
    const garbage = { ...signed, signature: { ...signature, signatureValue: Buffer.from("nope").toString("base64") } };
    expect(await verifyLdSignature(garbage, lookup)).toMatchObject({ status: "invalid" });
    const other = await pemPair();
    expect(await verifyLdSignature(signed, async () => ({ owner: ACTOR, pem: other.publicPem }))).toMatchObject({ status: "invalid" });
    // The key lookup is asked twice (cached, then fresh) before a signature is called wrong.
    let asked = 0;
    await verifyLdSignature(content, async (_keyId, refresh) => {
      asked++;
      expect(refresh).toBe(asked === 2);
      return { owner: ACTOR, pem: keys.publicPem };
    });
    expect(asked).toBe(2);
    expect(await verifyLdSignature({ ...signed, signature: { ...signature, type: "Ed25519Signature2018" } }, lookup)).toMatchObject({ status: "unverifiable" });
    expect(await verifyLdSignature({ ...signed, signature: { ...signature, creator: 42 } }, lookup)).toMatchObject({ status: "invalid" });
    const { signature: _dropped, ...unsigned } = signed;
    expect(await verifyLdSignature(unsigned, lookup)).toEqual({ status: "missing" });
  });

  test("a property no context defines cannot ride along: the document is not verified", async () => {
    const signed = await signLdDocument(createNote(ACTOR, "https://ld.example/notes/4", "<p>x</p>"), { keyId: KEY_ID, privateKeyPem: keys.privatePem });
    // Undefined terms would be dropped by a lax canonicaliser (same hash); safe mode refuses them instead.
    const smuggled = { ...signed, object: { ...(signed.object as object), quoteUrl: "https://evil.example/x" } };
    expect(await verifyLdSignature(smuggled, lookup)).toMatchObject({ status: "unverifiable" });
  });

  test("an unknown @context is refused without any network request", async () => {
    let hits = 0;
    const contextServer = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        hits++;
        return Response.json({ "@context": { foo: "https://ld.example/ns#foo" } });
      },
    });
    try {
      const url = `http://127.0.0.1:${contextServer.port}/context.jsonld`;
      const document = { ...createNote(ACTOR, "https://ld.example/notes/5", "<p>y</p>"), "@context": [AS, url] };
      await expect(ldHash(document)).rejects.toThrow(/not available offline/);
      const signed = { ...document, signature: { type: "RsaSignature2017", creator: KEY_ID, created: "2026-11-22T09:00:00Z", signatureValue: "AAAA" } };
      lookups = 0;
      expect(await verifyLdSignature(signed, lookup)).toMatchObject({ status: "unverifiable", reason: expect.stringContaining("not available offline") });
      expect(hits).toBe(0);
      // Nothing to check against: the key was not even asked for.
      expect(lookups).toBe(0);
    } finally {
      contextServer.stop(true);
    }
  });

  test("hostile documents (too many values, too deep, a blank-node maze) are refused quickly", async () => {
    const signature = { type: "RsaSignature2017", creator: KEY_ID, created: "2026-11-22T09:00:00Z", signatureValue: "AAAA" };
    const started = performance.now();
    const wide = { ...createNote(ACTOR, "https://ld.example/notes/6", "<p>z</p>"), cc: Array.from({ length: MAX_LD_NODES + 1 }, (_, i) => `https://ld.example/u/${i}`) };
    expect(await verifyLdSignature({ ...wide, signature }, lookup)).toMatchObject({ status: "unverifiable", reason: expect.stringContaining("too many") });
    let deep: Record<string, unknown> = { type: "Note", content: "bottom" };
    for (let i = 0; i < 40; i++) deep = { type: "Note", inReplyTo: deep };
    expect(await verifyLdSignature({ "@context": AS, type: "Create", actor: ACTOR, object: deep, signature }, lookup)).toMatchObject({ status: "unverifiable" });
    // Blank nodes that all look alike (a "poison" graph): the canonicaliser's deep-iteration budget ends it.
    const maze = Array.from({ length: 200 }, (_, i) => ({ id: `_:b${i}`, name: "same", tag: [{ id: `_:b${(i + 1) % 200}` }, { id: `_:b${(i + 7) % 200}` }] }));
    expect(await verifyLdSignature({ "@context": AS, type: "Note", tag: maze, signature }, lookup)).toMatchObject({
      status: "unverifiable",
      reason: expect.stringContaining("deep iterations"),
    });
    // Keywords Mastodon refuses in signed documents.
    expect(await verifyLdSignature({ "@context": AS, "@graph": maze.slice(0, 2), signature }, lookup)).toMatchObject({ status: "unverifiable", reason: expect.stringContaining("@graph") });
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

beforeAll(async () => {
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  context = await testContext({ LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" });
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["ingress", "pull", "default", "push"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  peer = await startFedifyPeer({ users: ["ld_relay", "ld_author", "ld_fwd"] });
  const alice = await makeTestUser(context, "ld_alice", { scopes: "read write" });
  token = alice.token!;
  aliceId = alice.account.id;
});

afterAll(() => tearDownRelayTest({ context, workers, peer, server: ours }));

/** Signed by ld_author's key with Fedify's LD signer, as its server would. */
async function fedifySigned(document: Record<string, unknown>): Promise<Record<string, unknown>> {
  return (await signJsonLd(document, peer.keys.ld_author!.privateKey, new URL(peer.keyId("ld_author")), { contextLoader: peer.context().contextLoader })) as Record<string, unknown>;
}

async function liveStatus(uri: string) {
  const [row] = await context.sql<{ id: string; content: string; edited_at: Date | null }[]>`
    select id::text, content, edited_at from statuses where uri = ${uri} and deleted_at is null`;
  return row;
}

/** Waits for the relays.ingest job of a forwarded activity to finish; returns it. `key`: the activity id, or
 *  for a signed post its whole body as sent. */
async function relayJobDone(kind: "post" | "update" | "delete", objectUri: string, key: string) {
  const dedupe = `${objectUri}\n${key}`;
  const jobId = `relay-${kind}-${createHash("sha256").update(dedupe).digest("hex").slice(0, 40)}`;
  return waitFor(async () => {
    const job = await context.queues.queue("ingress").getJob(jobId);
    return job?.finishedOn ? job : undefined;
  }, 15_000);
}

describe("relay flow with a Fedify relay", () => {
  beforeAll(async () => {
    const row = await addRelay(context, `${peer.base}/inbox`);
    const follow = await peer.waitForActivity((r) => r.type === "Follow" && r.json.id === row.follow_activity_id);
    const accept = { "@context": AS, id: `${relayActor()}#accept-${++seq}`, type: "Accept", actor: relayActor(), object: follow.json.id };
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, accept)).status).toBe(202);
    await waitFor(async () => (await context.sql`select 1 from relays where state = 'accepted'`).length > 0, 15_000);
    forgetRelayCache();
  });

  test("an LD-signed Create forwarded by the relay is stored from the payload (the origin is never asked) and shows on the federated timeline", async () => {
    // The origin serves nothing at this id: a refetch would find nothing to store.
    const uri = `${peer.base}/notes/ld-never-served-${++seq}`;
    const signed = await fedifySigned(createNote(author(), uri, "<p>signed by the author, carried by the relay</p>"));
    const fetchesBefore = peer.signedFetches.length;
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, signed)).status).toBe(202);
    const stored = await waitFor(() => liveStatus(uri), 15_000);
    expect(stored.content).toContain("carried by the relay");
    // Only the author's actor (its key) may have been fetched — never the post.
    expect(peer.signedFetches.length - fetchesBefore).toBeLessThanOrEqual(1);

    const timeline = await api("GET", "/api/v1/timelines/public?remote=true&limit=40", { token });
    expectMatchesSchema(timeline.json, arrayOf("Status"));
    const found = (timeline.json as { uri: string; account: { acct: string }; reblog: unknown }[]).find((s) => s.uri === uri);
    expect(found?.account.acct).toBe(`ld_author@${peer.host}`);
    expect(found?.reblog ?? null).toBeNull();
  });

  test("a forwarded LD-signed Update edits our copy; an unsigned one changes nothing", async () => {
    const uri = `${peer.base}/notes/ld-edited-${++seq}`;
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, await fedifySigned(createNote(author(), uri, "<p>first version</p>")))).status).toBe(202);
    await waitFor(() => liveStatus(uri), 15_000);

    const unsignedEdit = { ...createNote(author(), uri, "<p>relay's own words</p>", { updated: "2026-11-22T09:05:00Z" }), id: `${uri}#updates/1`, type: "Update" };
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, unsignedEdit)).status).toBe(202);
    const edit = { ...createNote(author(), uri, "<p>second version</p>", { updated: "2026-11-22T09:10:00Z" }), id: `${uri}#updates/2`, type: "Update" };
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, await fedifySigned(edit))).status).toBe(202);
    const edited = await waitFor(async () => {
      const row = await liveStatus(uri);
      return row?.content.includes("second version") ? row : undefined;
    }, 15_000);
    expect(edited.edited_at?.toISOString()).toBe("2026-11-22T09:10:00.000Z");
    const history = await api("GET", `/api/v1/statuses/${edited.id}/history`, { token });
    expect(history.status).toBe(200);
    const versions = (history.json as { content: string }[]).map((v) => v.content).join("\n");
    expect(versions).toContain("first version");
    expect(versions).not.toContain("relay's own words");

    // Signatures do not expire: an older signed version (replayed by the relay) must not roll the post back.
    const older = { ...createNote(author(), uri, "<p>an older version</p>", { updated: "2026-11-22T09:05:00Z" }), id: `${uri}#updates/0`, type: "Update" };
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, await fedifySigned(older)))).toHaveProperty("status", 202);
    await relayJobDone("update", uri, older.id);
    expect((await liveStatus(uri))?.content).toContain("second version");
  });

  test("a bad LD signature is refused: nothing stored from the payload, and no refetch", async () => {
    // The origin does serve this post: had the forward been treated as unsigned, the refetch would store it.
    const path = `/notes/ld-tampered-${++seq}`;
    const uri = peer.addObject(path, { "@context": AS, id: `${peer.base}${path}`, type: "Note", attributedTo: author(), content: "<p>origin</p>", to: [PUBLIC] });
    const signed = await fedifySigned(createNote(author(), uri, "<p>what the author wrote</p>"));
    const tampered = { ...signed, object: { ...(signed.object as object), content: "<p>what the relay wants</p>" } };
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, tampered)).status).toBe(202);
    const job = await relayJobDone("post", uri, JSON.stringify(tampered));
    expect(job.failedReason ?? "").toBe("");
    expect(await liveStatus(uri)).toBeUndefined();

    // Signed by another actor's key (a valid signature, but not the actor's): refused the same way.
    const path2 = `/notes/ld-other-${++seq}`;
    const uri2 = peer.addObject(path2, { "@context": AS, id: `${peer.base}${path2}`, type: "Note", attributedTo: author(), content: "<p>origin</p>", to: [PUBLIC] });
    const byOther = (await signJsonLd(createNote(author(), uri2, "<p>not theirs</p>"), peer.keys.ld_fwd!.privateKey, new URL(peer.keyId("ld_fwd")), {
      contextLoader: peer.context().contextLoader,
    })) as Record<string, unknown>;
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, byOther)).status).toBe(202);
    await relayJobDone("post", uri2, JSON.stringify(byOther));
    expect(await liveStatus(uri2)).toBeUndefined();

    // The genuine copy, arriving after the tampered one, is still taken.
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, signed)).status).toBe(202);
    expect((await waitFor(() => liveStatus(uri), 15_000)).content).toContain("what the author wrote");
  });

  test("an LD-signed Delete forwarded by the relay removes our copy without asking the origin", async () => {
    const uri = `${peer.base}/notes/ld-deleted-${++seq}`;
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, await fedifySigned(createNote(author(), uri, "<p>short-lived</p>")))).status).toBe(202);
    await waitFor(() => liveStatus(uri), 15_000);
    const deletion = { "@context": AS, id: `${uri}#delete`, type: "Delete", actor: author(), to: [PUBLIC], object: { id: uri, type: "Tombstone" } };
    // Tampered first: the post stays.
    const signedDeletion = await fedifySigned(deletion);
    const forged = { ...signedDeletion, id: `${uri}#delete-forged` };
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, forged)).status).toBe(202);
    await relayJobDone("delete", uri, forged.id);
    expect(await liveStatus(uri)).toBeDefined();
    expect((await peer.postSigned("ld_relay", `${ourBase}/inbox`, signedDeletion)).status).toBe(202);
    await waitFor(async () => (await liveStatus(uri)) === undefined, 15_000);
  });

  test("our public posts reach the relay LD-signed, and Fedify's verifier accepts the signature", async () => {
    const posted = await api("POST", "/api/v1/statuses", { token, json: { status: "ld signed for the relay", visibility: "public" } });
    expect(posted.status).toBe(200);
    const received = await peer.waitForActivity((r) => r.type === "Create" && r.recipient === null && (r.json.object as { id?: string })?.id === posted.json.uri, 20_000);
    const signature = received.json.signature as Record<string, unknown>;
    expect(signature.type).toBe("RsaSignature2017");
    expect(signature.creator).toBe(`${ourBase}/users/ld_alice#main-key`);
    const ctx = peer.context();
    expect(await verifyJsonLd(received.json, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader })).toBe(true);
    const tampered = { ...received.json, object: { ...(received.json.object as object), content: "<p>changed</p>" } };
    expect(await verifyJsonLd(tampered, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader })).toBe(false);
  });
});

describe("forwarded to an ordinary inbox", () => {
  test("another server forwarding the author's LD-signed post to a local user: accepted as the author's; tampered or unsigned: 401", async () => {
    const mention = (uri: string, content: string) =>
      createNote(author(), uri, content, { to: [`${ourBase}/users/ld_alice`], cc: [], tag: [{ type: "Mention", href: `${ourBase}/users/ld_alice`, name: "@ld_alice" }] });
    const uri = `${peer.base}/notes/ld-forwarded-${++seq}`;
    const signed = await fedifySigned({ ...mention(uri, "<p>@ld_alice forwarded to you</p>"), to: [`${ourBase}/users/ld_alice`], cc: [] });
    expect((await peer.postSigned("ld_fwd", `${ourBase}/inbox`, signed)).status).toBe(202);
    const stored = await waitFor(() => liveStatus(uri), 15_000);
    expect(stored.content).toContain("forwarded to you");
    const [owner] = await context.sql<{ uri: string }[]>`select a.uri from statuses s join accounts a on a.id = s.account_id where s.uri = ${uri}`;
    expect(owner?.uri).toBe(author());

    const uri2 = `${peer.base}/notes/ld-forwarded-${++seq}`;
    const signed2 = await fedifySigned({ ...mention(uri2, "<p>@ld_alice real</p>"), to: [`${ourBase}/users/ld_alice`], cc: [] });
    const tampered = { ...signed2, object: { ...(signed2.object as object), content: "<p>@ld_alice fake</p>" } };
    expect((await peer.postSigned("ld_fwd", `${ourBase}/inbox`, tampered)).status).toBe(401);
    const { signature: _dropped, ...unsigned } = signed2;
    expect((await peer.postSigned("ld_fwd", `${ourBase}/inbox`, unsigned)).status).toBe(401);
    await Bun.sleep(200);
    expect(await liveStatus(uri2)).toBeUndefined();
  });
});

describe("forwarded activities: whose key", () => {
  test("a creator key on another host than the actor's is never fetched: unverifiable", async () => {
    let hits = 0;
    const elsewhere = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        hits++;
        return new Response("no", { status: 404 });
      },
    });
    try {
      const signed = await fedifySigned(createNote(author(), `${peer.base}/notes/ld-elsewhere-${++seq}`, "<p>x</p>"));
      const moved = { ...signed, signature: { ...(signed.signature as object), creator: `http://127.0.0.1:${elsewhere.port}/users/ld_author#main-key` } };
      expect(await verifyForwardedActivity(context, moved)).toMatchObject({ status: "unverifiable" });
      expect(hits).toBe(0);
      // The same document with its real creator verifies (so the refusal above is about the host alone).
      expect(await verifyForwardedActivity(context, signed)).toMatchObject({ status: "verified", owner: author() });
    } finally {
      elsewhere.stop(true);
    }
  });
});

describe("outbound signing", () => {
  test("a rich local post (poll, hashtag, mention, CW, language, attachment) signs and verifies", async () => {
    const posted = await api("POST", "/api/v1/statuses", {
      token,
      json: { status: `#ldtag hello @ld_author@${peer.host}`, spoiler_text: "cw", language: "en", visibility: "public", poll: { options: ["a", "b"], expires_in: 3600 } },
    });
    expect(posted.status).toBe(200);
    const loaded = (await loadStatus(context, posted.json.id as string))!;
    const note = {
      ...loaded.note,
      media: [{ url: `${ourBase}/m.png`, mediaType: "image/png", description: "alt", blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj", focus: { x: 0.5, y: -0.25 }, width: 640, height: 480 }],
    };
    const signed = await signIfDistributable(context, aliceId, "public", createActivity(context.config, note));
    expect(signed.signature).toBeDefined();
    const [row] = await context.sql<{ public_key: string }[]>`select public_key from accounts where id = ${aliceId}`;
    expect(await verifyLdSignature(signed, async () => ({ owner: `${ourBase}/users/ld_alice`, pem: row!.public_key }))).toMatchObject({ status: "verified" });
  });

  test("signIfDistributable signs public and unlisted activities only, and nothing in authorized-fetch mode", async () => {
    const activity = createNote(`${ourBase}/users/ld_alice`, `${ourBase}/users/ld_alice/statuses/1`, "<p>x</p>");
    for (const visibility of ["public", "unlisted"]) {
      const signed = await signIfDistributable(context, aliceId, visibility, activity);
      expect((signed.signature as { creator?: string })?.creator).toBe(`${ourBase}/users/ld_alice#main-key`);
    }
    for (const visibility of ["private", "direct"]) expect(await signIfDistributable(context, aliceId, visibility, activity)).toBe(activity);
    const secure = { ...context, config: { ...context.config, authorizedFetch: true } };
    expect(await signIfDistributable(secure, aliceId, "public", activity)).toBe(activity);
    // A term our context does not define cannot be signed safely: the activity still goes, unsigned.
    const undefinedTerm = { ...activity, object: { ...(activity.object as object), quoteUrl: "https://ld.example/q" } };
    expect(await signIfDistributable(context, aliceId, "public", undefinedTerm)).toBe(undefinedTerm);
    // A remote or unknown account has no key here: unchanged.
    expect(await signIfDistributable(context, "1", "public", activity)).toBe(activity);
  });
});
