/**
 * Relays (issue 9) against a relay written with Fedify on loopback (test/helpers/fedify-peer.ts): the peer's
 * `rl_relay` actor plays the relay (its shared inbox takes our Follow, it answers Accept / Reject and
 * Announces posts by `rl_author`, another actor of the peer). The real CLI subscribes; real workers process
 * what arrives; results are read back through the Mastodon API with masto.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { activityKey } from "../../src/features/federation/inbox";
import { RELAY_PRIORITY } from "../../src/features/relays/inbound";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { inProcessApi } from "../helpers/api";
import { freePort, runWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
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
let env: Record<string, string>;
const api = inProcessApi(() => app);
let seq = 0;

const relayInbox = () => `${peer.base}/inbox`;
const relayActor = () => peer.actorUri("rl_relay");
const author = () => peer.actorUri("rl_author");

type RelayRow = { state: string; follow_activity_id: string; actor_uri: string | null };
async function relayRow(inbox: string): Promise<RelayRow | undefined> {
  const [row] = await context.sql<RelayRow[]>`select state, follow_activity_id, actor_uri from relays where inbox_url = ${inbox}`;
  return row;
}

/** A Note by rl_author served by the peer (signed GETs only), as its origin. */
function serveNote(content: string): string {
  const path = `/notes/rl-${Date.now()}-${++seq}`;
  return peer.addObject(path, {
    "@context": AS,
    id: `${peer.base}${path}`,
    type: "Note",
    attributedTo: author(),
    content,
    published: new Date().toISOString(),
    to: [PUBLIC],
    cc: [`${author()}/followers`],
  });
}

async function statusByUri(uri: string) {
  const [row] = await context.sql<{ id: string; visibility: string; text: string | null }[]>`select id::text, visibility, text from statuses where uri = ${uri} and deleted_at is null`;
  return row;
}

/** Wait until the relay's Follow reached the peer and answer it with Accept or Reject signed by the relay. */
async function answerFollow(kind: "Accept" | "Reject", inbox: string): Promise<void> {
  const row = await relayRow(inbox);
  expect(row?.state).toBe("pending");
  const follow = await peer.waitForActivity((r) => r.type === "Follow" && r.json.id === row!.follow_activity_id);
  expect(follow.json.object).toBe(PUBLIC);
  expect(follow.json.actor).toBe(`${ourBase}/actor`);
  const body = { "@context": AS, id: `${relayActor()}#${kind}-${++seq}`, type: kind, actor: relayActor(), object: follow.json.id };
  expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, body)).status).toBe(202);
}

beforeAll(async () => {
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  env = { LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" };
  context = await testContext(env);
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["ingress", "pull", "default", "push"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  peer = await startFedifyPeer({ users: ["rl_relay", "rl_author"] });
  token = (await makeTestUser(context, "rl_alice", { scopes: "read write" })).token!;
});

afterAll(() => tearDownRelayTest({ context, workers, peer, server: ours }));

describe("subscribing", () => {
  test("add sends a signed Follow of as:Public from the instance actor: pending, then accepted on the relay's Accept", async () => {
    const added = await runWoolly(["admin", "relays", "add", relayInbox()], env);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    expect(added.stdout).toContain("pending");
    expect((await runWoolly(["admin", "relays", "list"], env)).stdout).toContain(`${relayInbox()}\tpending`);
    // Fedify checked the signature against our instance actor's key before recording the Follow.
    await answerFollow("Accept", relayInbox());
    const row = await waitFor(async () => ((await relayRow(relayInbox()))?.state === "accepted" ? relayRow(relayInbox()) : undefined), 15_000);
    expect(row?.actor_uri).toBe(relayActor());
    const listed = JSON.parse((await runWoolly(["admin", "relays", "list", "--json"], env)).stdout) as { inbox_url: string; state: string }[];
    expect(listed.find((r) => r.inbox_url === relayInbox())?.state).toBe("accepted");
  });

  test("a relay that answers Reject is shown as rejected", async () => {
    const inbox = `${peer.base}/users/rl_relay/inbox`;
    expect((await runWoolly(["admin", "relays", "add", inbox], env)).code).toBe(0);
    await answerFollow("Reject", inbox);
    await waitFor(async () => (await relayRow(inbox))?.state === "rejected", 15_000);
    expect((await runWoolly(["admin", "relays", "list"], env)).stdout).toContain(`${inbox}\trejected\t${relayActor()}\t(last error: the relay answered Reject)`);
    const removed = await runWoolly(["admin", "relays", "remove", inbox], env);
    expect(removed.code).toBe(0);
    expect(await relayRow(inbox)).toBeUndefined();
    await peer.waitForActivity((r) => r.type === "Undo" && (r.json.object as { type?: string })?.type === "Follow");
  });

  test("an unreachable URL, a URL that is not a relay inbox, and a malformed URL are reported; nothing is kept", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/inbox`;
    const unreachable = await runWoolly(["admin", "relays", "add", dead], env);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain("unreachable");
    const notRelay = await runWoolly(["admin", "relays", "add", `${peer.base}/nothing-here`], env);
    expect(notRelay.code).toBe(1);
    expect(notRelay.stderr).toMatch(/not a relay inbox \(it answered 4\d\d\)/);
    const malformed = await runWoolly(["admin", "relays", "add", "ftp://relay.example/inbox"], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("Not a relay inbox URL");
    const rows = await context.sql`select inbox_url from relays where inbox_url <> ${relayInbox()}`;
    expect(rows).toHaveLength(0);
    expect((await runWoolly(["admin", "relays", "remove", dead], env)).code).toBe(2);
  });
});

describe("relayed content", () => {
  test("an Announce from the accepted relay lands on the federated timeline (fetched from its origin, no boost by the relay)", async () => {
    const uri = serveNote("<p>relayed hello</p>");
    const announce = { "@context": AS, id: `${relayActor()}#announce-${++seq}`, type: "Announce", actor: relayActor(), object: uri, to: [PUBLIC] };
    const before = peer.signedFetches.length;
    expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, announce)).status).toBe(202);
    const stored = await waitFor(() => statusByUri(uri), 15_000);
    expect(stored.visibility).toBe("public");
    // The object came from its origin with a signed GET (the peer only serves signed fetches).
    expect(peer.signedFetches.length).toBeGreaterThan(before);
    const [boost] = await context.sql`select 1 from statuses where uri = ${announce.id}`;
    expect(boost).toBeUndefined();

    const masto = createRestAPIClient({ url: ourBase, accessToken: token });
    const timeline = await masto.v1.timelines.public.list({ remote: true, limit: 40 });
    const found = timeline.find((s) => s.uri === uri);
    expect(found?.content).toContain("relayed hello");
    expect(found?.account.acct).toBe(`rl_author@${peer.host}`);
    expect(found?.reblog ?? null).toBeNull();
    const raw = await api("GET", "/api/v1/timelines/public?remote=true&limit=40", { token });
    expectMatchesSchema(raw.json, arrayOf("Status"));
  });

  test("a Create forwarded by the relay (signed by it, another actor) is stored from the origin's copy, not the forwarded one", async () => {
    const uri = serveNote("<p>the origin's words</p>");
    const forged = { "@context": AS, id: `${uri}/activity`, type: "Create", actor: author(), to: [PUBLIC], object: { id: uri, type: "Note", attributedTo: author(), content: "<p>forged words</p>", to: [PUBLIC] } };
    expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, forged)).status).toBe(202);
    const stored = await waitFor(() => statusByUri(uri), 15_000);
    const shown = await api("GET", `/api/v1/statuses/${stored.id}`, { token });
    expect(shown.json.content).toContain("the origin's words");
    expect(shown.json.content).not.toContain("forged");
  });

  test("relay-looking traffic not signed by the accepted relay is refused (401) and nothing is stored", async () => {
    const uri = serveNote("<p>smuggled</p>");
    // Claims to come from the relay, signed by someone else's key.
    const posing = { "@context": AS, id: `${relayActor()}#announce-${++seq}`, type: "Announce", actor: relayActor(), object: uri };
    expect((await peer.postSigned("rl_author", `${ourBase}/inbox`, posing, { keyId: peer.keyId("rl_relay") })).status).toBe(401);
    // A forward for another actor by a signer that is not a relay.
    const forward = { "@context": AS, id: `${uri}/activity`, type: "Create", actor: relayActor(), object: uri };
    expect((await peer.postSigned("rl_author", `${ourBase}/inbox`, forward)).status).toBe(401);
    await Bun.sleep(300);
    expect(await statusByUri(uri)).toBeUndefined();
  });

  test("a Delete forwarded by the relay removes the post only once its origin no longer serves it", async () => {
    const uri = serveNote("<p>soon gone</p>");
    const announce = { "@context": AS, id: `${relayActor()}#announce-${++seq}`, type: "Announce", actor: relayActor(), object: uri };
    expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, announce)).status).toBe(202);
    const stored = await waitFor(() => statusByUri(uri), 15_000);
    const deletion = () => ({ "@context": AS, id: `${uri}#delete-${++seq}`, type: "Delete", actor: author(), object: uri });
    // Still served by its origin: a relay's word is not enough (the job ran and finished without removing it).
    const first = deletion();
    expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, first)).status).toBe(202);
    const jobId = `relay-delete-${createHash("sha256").update(`${uri}\n${first.id}`).digest("hex").slice(0, 40)}`;
    const job = await waitFor(async () => {
      const found = await context.queues.queue("ingress").getJob(jobId);
      return found?.finishedOn ? found : undefined;
    }, 15_000);
    expect(job.failedReason ?? "").toBe("");
    expect(await statusByUri(uri)).toEqual(stored);

    peer.addObject(new URL(uri).pathname, { "@context": AS, id: uri, type: "Tombstone" });
    expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, deletion())).status).toBe(202);
    await waitFor(async () => (await statusByUri(uri)) === undefined, 15_000);
  });

  test("relay traffic is queued behind ordinary activities (a larger BullMQ priority number)", async () => {
    await workers.close(5000);
    try {
      const uri = serveNote("<p>queued</p>");
      const announce = { "@context": AS, id: `${relayActor()}#announce-${++seq}`, type: "Announce", actor: relayActor(), object: uri };
      expect((await peer.postSigned("rl_relay", `${ourBase}/inbox`, announce)).status).toBe(202);
      const like = { "@context": AS, id: `${author()}#like-${++seq}`, type: "Like", actor: author(), object: `${ourBase}/users/rl_alice` };
      const likeBody = JSON.stringify(like);
      expect((await peer.postSigned("rl_author", `${ourBase}/inbox`, likeBody)).status).toBe(202);
      const queue = context.queues.queue("ingress");
      const relayJob = (await queue.getJobs(["prioritized", "waiting"])).find((j) => j?.name === "relays.ingest" && j.data.objectUri === uri);
      expect(relayJob?.opts.priority).toBe(RELAY_PRIORITY);
      const ordinary = await queue.getJob(`ap-${activityKey(like, likeBody)}`);
      expect(ordinary?.opts.priority ?? 0).toBe(0);
    } finally {
      workers = startWorkers({ queues: ["ingress", "pull", "default", "push"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
    }
  });
});

describe("outbound", () => {
  test("a local public post reaches the relay inbox; an unlisted one does not", async () => {
    const unlisted = await api("POST", "/api/v1/statuses", { token, json: { status: "rl unlisted", visibility: "unlisted" } });
    expect(unlisted.status).toBe(200);
    const posted = await api("POST", "/api/v1/statuses", { token, json: { status: "rl to the relay", visibility: "public" } });
    expect(posted.status).toBe(200);
    const received = await peer.waitForActivity((r) => r.type === "Create" && r.recipient === null && (r.json.object as { id?: string })?.id === posted.json.uri, 20_000);
    expect(received.json.actor).toBe(`${ourBase}/users/rl_alice`);
    expect(peer.received.some((r) => (r.json.object as { id?: string })?.id === unlisted.json.uri)).toBe(false);
  });
});
