/**
 * Relay operations (issue 9): enable / disable (Undo(Follow), row kept as idle; a fresh Follow → pending),
 * the per-relay throttle, and the /admin/relays page (role and CSRF checks, add by inbox URL, bad URLs shown
 * as such). The relay is a Fedify peer on loopback (test/helpers/fedify-peer.ts): its shared inbox takes our
 * Follow / Undo, and `rl_hub` answers and Announces posts by `rl_writer`, both actors of the peer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { buildWebApp } from "../../src/api/app";
import { takeRelayedActivity } from "../../src/features/relays/inbound";
import { forgetRelayCache } from "../../src/features/relays/service";
import { relayMinute } from "../../src/features/relays/throttle";
import { relayActivities } from "../../src/infra/metrics";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { Browser, hiddenFields } from "../helpers/browser";
import { chromiumPath, launchChromium } from "../helpers/chromium";
import { freePort, runWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer, type FedifyPeer } from "../helpers/fedify-peer";
import { tearDownRelayTest } from "../helpers/relay-test";
import { makeTestUser, TEST_PASSWORD } from "../helpers/users";

const AS = "https://www.w3.org/ns/activitystreams";
const ARTIFACTS = "test-artifacts/relays-admin";
const PUBLIC = `${AS}#Public`;

let context: TestContext;
let ours: ReturnType<typeof Bun.serve>;
let ourBase: string;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let peer: FedifyPeer;
let env: Record<string, string>;
let seq = 0;

const hubInbox = () => `${peer.base}/inbox`;
const hubActor = () => peer.actorUri("rl_hub");
const writer = () => peer.actorUri("rl_writer");

type RelayRow = { state: string; follow_activity_id: string; actor_uri: string | null; last_error: string | null; max_per_minute: number };
async function relayRow(inbox: string): Promise<RelayRow | undefined> {
  const [row] = await context.sql<RelayRow[]>`select state, follow_activity_id, actor_uri, last_error, max_per_minute from relays where inbox_url = ${inbox}`;
  return row;
}

async function signedIn(username: string): Promise<Browser> {
  const browser = new Browser(ourBase, { email: `${username}@example.com`, password: TEST_PASSWORD });
  const form = await (await browser.request("/auth/sign_in")).text();
  const response = await browser.post("/auth/sign_in", { ...hiddenFields(form), email: `${username}@example.com`, password: TEST_PASSWORD });
  expect(response.status).toBe(303);
  return browser;
}

const csrf = async (browser: Browser) => hiddenFields(await (await browser.request("/admin/relays")).text()).authenticity_token!;

/** Wait for the pending Follow to reach the peer and answer it, signed by the relay actor. */
async function answerFollow(kind: "Accept" | "Reject", inbox: string): Promise<string> {
  const row = await relayRow(inbox);
  expect(row?.state).toBe("pending");
  const follow = await peer.waitForActivity((r) => r.type === "Follow" && r.json.id === row!.follow_activity_id);
  expect(follow.json.object).toBe(PUBLIC);
  const body = { "@context": AS, id: `${hubActor()}#${kind}-${++seq}`, type: kind, actor: hubActor(), object: follow.json.id };
  expect((await peer.postSigned("rl_hub", `${ourBase}/inbox`, body)).status).toBe(202);
  await waitFor(async () => (await relayRow(inbox))?.state === (kind === "Accept" ? "accepted" : "rejected"), 15_000);
  return follow.json.id as string;
}

function serveNote(content: string): string {
  const path = `/notes/rl-admin-${Date.now()}-${++seq}`;
  return peer.addObject(path, { "@context": AS, id: `${peer.base}${path}`, type: "Note", attributedTo: writer(), content, published: new Date().toISOString(), to: [PUBLIC] });
}

const announceOf = (uri: string) => ({ "@context": AS, id: `${hubActor()}#announce-${++seq}`, type: "Announce", actor: hubActor(), object: uri, to: [PUBLIC] });

async function stored(uri: string): Promise<boolean> {
  return (await context.sql`select 1 from statuses where uri = ${uri}`).length > 0;
}

async function throttledCount(): Promise<number> {
  const host = new URL(hubActor()).host;
  return (await relayActivities.get()).values.find((v) => v.labels.relay === host && v.labels.outcome === "throttled")?.value ?? 0;
}

beforeAll(async () => {
  ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => app.handle(request) });
  ourBase = `http://127.0.0.1:${ours.port}`;
  env = { LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" };
  context = await testContext(env);
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["ingress", "pull", "default", "push"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  peer = await startFedifyPeer({ users: ["rl_hub", "rl_writer"] });
  await makeTestUser(context, "rl_admin", { role: "Admin" });
  await makeTestUser(context, "rl_mod", { role: "Moderator" });
  await makeTestUser(context, "rl_user");
});

afterAll(() => tearDownRelayTest({ context, workers, peer, server: ours }));

describe("/admin/relays guards", () => {
  test("a user or a moderator gets 403 (GET and POST); an admin's POST without or with a foreign CSRF token is 403; nothing is added", async () => {
    const user = await signedIn("rl_user");
    expect((await user.request("/admin/relays")).status).toBe(403);
    const userToken = hiddenFields(await (await user.request("/")).text()).authenticity_token!;
    expect(userToken).toBeTruthy();
    expect((await user.post("/admin/relays", { authenticity_token: userToken, inbox_url: hubInbox() })).status).toBe(403);
    const moderator = await signedIn("rl_mod");
    expect((await moderator.request("/admin/relays")).status).toBe(403);
    const admin = await signedIn("rl_admin");
    expect((await admin.post("/admin/relays", { inbox_url: hubInbox() })).status).toBe(403);
    expect((await admin.post("/admin/relays", { inbox_url: hubInbox(), authenticity_token: userToken })).status).toBe(403);
    expect((await admin.post("/admin/relays/disable", { inbox_url: hubInbox() })).status).toBe(403);
    expect(await relayRow(hubInbox())).toBeUndefined();
    expect(peer.received.some((r) => r.type === "Follow")).toBe(false);
    const anonymous = await fetch(`${ourBase}/admin/relays`, { redirect: "manual" });
    expect(anonymous.status).toBe(302);
  });
});

describe("relay operations", () => {
  test("add through the page: pending, then accepted on the relay's Accept, shown in the list", async () => {
    const admin = await signedIn("rl_admin");
    const added = await admin.post("/admin/relays", { authenticity_token: await csrf(admin), inbox_url: hubInbox() });
    expect(added.status).toBe(303);
    expect(added.headers.get("location")).toBe("/admin/relays");
    expect(await (await admin.request("/admin/relays")).text()).toContain(`<td data-state="pending">pending</td>`);
    await answerFollow("Accept", hubInbox());
    expect((await relayRow(hubInbox()))?.actor_uri).toBe(hubActor());
    const page = await (await admin.request("/admin/relays")).text();
    expect(page).toContain(`<th scope="row">${hubInbox()}</th><td data-state="accepted">accepted</td>`);
    expect(page).toContain('action="/admin/relays/disable"');
  });

  test("disable (CLI) sends Undo of the Follow and keeps the relay as idle, its traffic no longer taken; enable (page) sends a fresh Follow", async () => {
    const before = await relayRow(hubInbox());
    expect(before?.state).toBe("accepted");
    forgetRelayCache();
    expect(await takeRelayedActivity(context, announceOf(serveNote("<p>while accepted</p>")), hubActor())).toBe(true);

    const disabled = await runWoolly(["admin", "relays", "disable", hubInbox()], env);
    expect(disabled.stderr).toBe("");
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain(`${hubInbox()}\tidle`);
    const undo = await peer.waitForActivity((r) => r.type === "Undo" && (r.json.object as { id?: string })?.id === before!.follow_activity_id);
    expect((undo.json.object as { type?: string }).type).toBe("Follow");
    expect(undo.json.actor).toBe(`${ourBase}/actor`);
    const idle = await relayRow(hubInbox());
    expect(idle).toMatchObject({ state: "idle", actor_uri: null, last_error: null });
    expect((await runWoolly(["admin", "relays", "list"], env)).stdout).toContain(`${hubInbox()}\tidle`);
    // The relay's Announces are no longer relay traffic (the inbox edge would treat them as any actor's).
    forgetRelayCache();
    expect(await takeRelayedActivity(context, announceOf(serveNote("<p>while idle</p>")), hubActor())).toBe(false);
    // A late (or replayed) Accept of that Follow does not bring a disabled relay back.
    const stale = { "@context": AS, id: `${hubActor()}#late-${++seq}`, type: "Accept", actor: hubActor(), object: before!.follow_activity_id };
    expect((await peer.postSigned("rl_hub", `${ourBase}/inbox`, stale)).status).toBe(202);
    await Bun.sleep(1000);
    expect((await relayRow(hubInbox()))?.state).toBe("idle");
    // Disabling twice is a no-op, not a second Undo.
    const undos = peer.received.filter((r) => r.type === "Undo").length;
    expect((await runWoolly(["admin", "relays", "disable", hubInbox()], env)).code).toBe(0);
    expect(peer.received.filter((r) => r.type === "Undo").length).toBe(undos);

    const admin = await signedIn("rl_admin");
    const page = await (await admin.request("/admin/relays")).text();
    expect(page).toContain(`<td data-state="idle">idle</td>`);
    expect(page).toContain('action="/admin/relays/enable"');
    expect((await admin.post("/admin/relays/enable", { authenticity_token: hiddenFields(page).authenticity_token!, inbox_url: hubInbox() })).status).toBe(303);
    const pending = await relayRow(hubInbox());
    expect(pending?.state).toBe("pending");
    expect(pending?.follow_activity_id).not.toBe(before!.follow_activity_id);
    await answerFollow("Accept", hubInbox());
    forgetRelayCache();
    expect(await takeRelayedActivity(context, announceOf(serveNote("<p>enabled again</p>")), hubActor())).toBe(true);
  });

  test("a relay that answers Reject shows as rejected with its last error; unreachable, non-relay and malformed URLs are shown as such", async () => {
    const admin = await signedIn("rl_admin");
    const second = `${peer.base}/users/rl_hub/inbox`;
    expect((await admin.post("/admin/relays", { authenticity_token: await csrf(admin), inbox_url: second })).status).toBe(303);
    await answerFollow("Reject", second);
    expect((await relayRow(second))?.last_error).toBe("the relay answered Reject");
    let page = await (await admin.request("/admin/relays")).text();
    expect(page).toContain(`<th scope="row">${second}</th><td data-state="rejected">rejected</td><td>the relay answered Reject</td>`);

    const dead = `http://127.0.0.1:${await freePort()}/inbox`;
    const unreachable = await admin.post("/admin/relays", { authenticity_token: await csrf(admin), inbox_url: dead });
    expect(unreachable.status).toBe(422);
    expect(await unreachable.text()).toContain("is unreachable");
    const notRelay = await admin.post("/admin/relays", { authenticity_token: await csrf(admin), inbox_url: `${peer.base}/nothing-here` });
    expect(notRelay.status).toBe(422);
    expect(await notRelay.text()).toMatch(/not a relay inbox \(it answered 4\d\d\)/);
    const malformed = await admin.post("/admin/relays", { authenticity_token: await csrf(admin), inbox_url: "ftp://relay.example/inbox" });
    expect(malformed.status).toBe(422);
    expect(await malformed.text()).toContain("Not a relay inbox URL");
    expect((await admin.post("/admin/relays", { authenticity_token: await csrf(admin) })).status).toBe(422);
    expect((await admin.post("/admin/relays/enable", { authenticity_token: await csrf(admin), inbox_url: "https://unknown.example/inbox" })).status).toBe(404);
    expect(await relayRow(dead)).toBeUndefined();

    // A known relay that has become unreachable keeps its state, with the reason as its last error.
    await context.sql`insert into relays (inbox_url, follow_activity_id, state) values (${dead}, ${`${ourBase}/relay-follows/rl-dead`}, 'idle')`;
    const enable = await admin.post("/admin/relays/enable", { authenticity_token: await csrf(admin), inbox_url: dead });
    expect(enable.status).toBe(422);
    const row = await relayRow(dead);
    expect(row?.state).toBe("idle");
    expect(row?.follow_activity_id).toBe(`${ourBase}/relay-follows/rl-dead`);
    expect(row?.last_error).toContain("is unreachable");
    page = await (await admin.request("/admin/relays")).text();
    expect(page).toContain(`<th scope="row">${dead}</th><td data-state="idle">idle</td><td>${dead} is unreachable`);

    // Removing through the page: the idle one (no second Undo) and the rejected one.
    expect((await admin.post("/admin/relays/remove", { authenticity_token: await csrf(admin), inbox_url: dead })).status).toBe(303);
    expect((await admin.post("/admin/relays/remove", { authenticity_token: await csrf(admin), inbox_url: second })).status).toBe(303);
    expect(await relayRow(dead)).toBeUndefined();
    expect(await relayRow(second)).toBeUndefined();
  });

  test("throttle: beyond the relay's per-minute limit activities are acknowledged, dropped and counted", async () => {
    const admin = await signedIn("rl_admin");
    for (const bad of ["0", "abc", "-3", "99999999"]) {
      expect((await admin.post("/admin/relays/limit", { authenticity_token: await csrf(admin), inbox_url: hubInbox(), max_per_minute: bad })).status).toBe(422);
    }
    expect((await relayRow(hubInbox()))?.max_per_minute).toBe(6000);
    for (const bad of [["limit", hubInbox(), "abc"], ["limit", hubInbox(), "0"], ["limit", "https://unknown.example/inbox", "5"], ["enable", "https://unknown.example/inbox"]]) {
      const result = await runWoolly(["admin", "relays", ...bad], env);
      expect(result.code).toBe(2);
      expect(result.stderr).not.toContain("    at ");
    }
    expect((await relayRow(hubInbox()))?.max_per_minute).toBe(6000);
    // The window is the clock minute: not too close to its end (it must not roll over halfway), and what
    // this relay already sent in it (the earlier tests) counts, so the limit is that plus 3.
    if (60_000 - (Date.now() % 60_000) < 15_000) await Bun.sleep(60_000 - (Date.now() % 60_000) + 50);
    const [row] = await context.sql<{ id: string }[]>`select id::text from relays where inbox_url = ${hubInbox()}`;
    const { received } = await relayMinute(context, row!.id, 0);
    const limit = received + 3;
    expect((await admin.post("/admin/relays/limit", { authenticity_token: await csrf(admin), inbox_url: hubInbox(), max_per_minute: String(limit) })).status).toBe(303);
    expect((await relayRow(hubInbox()))?.max_per_minute).toBe(limit);
    forgetRelayCache();
    const dropsBefore = await throttledCount();
    const uris = Array.from({ length: 6 }, (_, i) => serveNote(`<p>firehose ${i}</p>`));
    for (const uri of uris) expect((await peer.postSigned("rl_hub", `${ourBase}/inbox`, announceOf(uri))).status).toBe(202);
    expect(await throttledCount()).toBe(dropsBefore + 3);
    await waitFor(async () => (await Promise.all(uris.slice(0, 3).map(stored))).every(Boolean), 15_000);
    await Bun.sleep(1000);
    expect(await Promise.all(uris.map(stored))).toEqual([true, true, true, false, false, false]);
    const page = await (await admin.request("/admin/relays")).text();
    expect(page).toContain(`${received + 6} received, 3 dropped`);
  }, 60_000);
});

const executable = chromiumPath();
if (!executable) console.warn("\n*** relays-admin: NO CHROMIUM FOUND (apt-get install -y chromium, or set CHROMIUM_PATH): the real-browser test is SKIPPED ***\n");

describe.skipIf(!executable)("/admin/relays in headless Chromium", () => {
  test("on a phone: reach Relays from the nav, add a relay (pending), see an unreachable one refused, disable, remove", async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const inbox = `${peer.base}/users/rl_writer/inbox`;
    const dead = `http://127.0.0.1:${await freePort()}/inbox`;
    const chromium = await launchChromium(executable!);
    try {
      const browser = await chromium.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const page = await browser.newPage();
      await page.goto(`${ourBase}/admin`);
      await page.fill("#email", "rl_admin@example.com");
      await page.fill("#password", TEST_PASSWORD);
      await page.click("button[type=submit]:has-text('Sign in')");
      await page.waitForURL(`${ourBase}/admin`);
      await page.click("nav >> text=Relays");
      await page.waitForURL(`${ourBase}/admin/relays`);
      expect(await page.textContent("h1")).toBe("Relays");

      await page.fill("#inbox_url", inbox);
      await page.click("button:has-text('Subscribe')");
      await page.waitForURL(`${ourBase}/admin/relays`);
      expect(await page.textContent(`tr:has(th:text-is('${inbox}')) >> td[data-state]`)).toBe("pending");
      await peer.waitForActivity((r) => r.type === "Follow" && r.recipient === "rl_writer");
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${ARTIFACTS}/relays-phone.png`, fullPage: true });

      await page.fill("#inbox_url", dead);
      await page.click("button:has-text('Subscribe')");
      expect(await page.textContent("[role=alert]")).toContain(`${dead} is unreachable`);
      await page.screenshot({ path: `${ARTIFACTS}/relays-unreachable.png`, fullPage: true });

      await page.click(`tr:has(th:text-is('${inbox}')) >> button:has-text('Disable')`);
      await page.waitForURL(`${ourBase}/admin/relays`);
      expect(await page.textContent(`tr:has(th:text-is('${inbox}')) >> td[data-state]`)).toBe("idle");
      expect((await relayRow(inbox))?.state).toBe("idle");
      await page.click(`tr:has(th:text-is('${inbox}')) >> button:has-text('Remove')`);
      await page.waitForURL(`${ourBase}/admin/relays`);
      expect(await page.locator(`th:text-is('${inbox}')`).count()).toBe(0);
      expect(await relayRow(inbox)).toBeUndefined();
      await browser.close();
    } finally {
      await chromium.close();
    }
  }, 60_000);
});
