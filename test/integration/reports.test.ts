/**
 * POST /api/v1/reports through the real web app and a real masto.js client: the Report entity against
 * Mastodon's schema, categories and rules (only with violation, only existing ones), statuses (must be the
 * reported account's and visible to the reporter: else 404 and nothing written), bad input (422/404, never
 * 500), scopes; staff get an `admin.report` notification through the `default` worker; remote Flags are
 * stored once per id; forward=true sends a Flag signed by the instance actor to a loopback "remote" inbox.
 * Usernames start with `cb_rep`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient, MastoHttpError } from "masto";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { instanceActorUri, instanceKeyId, instanceKeys } from "../../src/features/federation/instance-actor";
import { createReportFromRemote } from "../../src/features/reports/service";
import { parseSignature } from "../../src/infra/http/signatures";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { postStatus } from "../../src/features/statuses/service";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

type User = LocalAccountRow & { token: string };
let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let reporter: User, target: User, other: User, moderator: User;
let remoteId: string;
let inbox: ReturnType<typeof Bun.serve>;
const inboxed: { url: string; headers: Headers; body: Uint8Array }[] = [];
const call = inProcessApi(() => app);
// Queues of our own (the database is the run's): our workers run only our jobs, and other files' workers never see ours.
const OWN_NAMESPACE = `${process.env.REDIS_NAMESPACE}_cb_reports`;

async function user(name: string, role?: "Moderator"): Promise<User> {
  const { account, token } = await makeTestUser(context, `cb_rep_${name}`, { scopes: "read write", role });
  return { ...account, token: token! };
}

const report = (who: User, json: unknown) => call("POST", "/api/v1/reports", { token: who.token, json });
const count = async () => Number((await context.sql<{ n: string }[]>`select count(*) as n from reports`)[0]!.n);

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  inbox = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      inboxed.push({ url: request.url, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
      return new Response(null, { status: 202 });
    },
  });
  context = await testContext({ REDIS_NAMESPACE: OWN_NAMESPACE, ALLOWED_PRIVATE_ADDRESSES: "127.0.0.1/32" });
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default", "push"], concurrency: 2, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  [reporter, target, other, moderator] = await Promise.all([user("reporter"), user("target"), user("other"), user("mod", "Moderator")]);
  const [row] = await context.sql<{ id: string }[]>`
    insert into accounts (username, domain, uri, url, inbox_url, shared_inbox_url)
    values ('cb_rep_remote', 'remote.example', 'https://remote.example/users/x', 'https://remote.example/@x', 'https://remote.example/users/x/inbox', ${`http://127.0.0.1:${inbox.port}/inbox`})
    returning id`;
  remoteId = row!.id;
  await setSetting(context.sql, "rules", [{ text: "Be kind" }, { text: "No spam", hint: "" }]);
});

afterAll(async () => {
  await resetSetting(context.sql, "rules");
  await workers.close(5000);
  await context.close();
  inbox.stop(true);
});

describe("filing a report", () => {
  test("with statuses, a violation of existing rules: the Report entity; staff are notified", async () => {
    const s1 = (await postStatus(context, target, { status: "rude post" })).statusId;
    const s2 = (await postStatus(context, target, { status: "followers only", visibility: "private" })).statusId;
    // The reporter follows the target, so the followers-only post is visible to them.
    expect((await call("POST", `/api/v1/accounts/${target.id}/follow`, { token: reporter.token })).status).toBe(200);
    const response = await report(reporter, { account_id: target.id, status_ids: [s1, s2, s1], comment: "Please look", category: "violation", rule_ids: ["2", "1"], forward: false });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "Report");
    expect(response.json).toMatchObject({
      action_taken: false,
      action_taken_at: null,
      category: "violation",
      comment: "Please look",
      forwarded: false,
      rule_ids: ["2", "1"],
      target_account: { id: target.id, username: target.username },
    });
    expect([...response.json.status_ids].sort()).toEqual([s1, s2].sort());
    const [row] = await context.sql`select account_id, target_account_id, assigned_account_id, action_taken_at from reports where id = ${response.json.id}`;
    expect(row).toMatchObject({ account_id: reporter.id, target_account_id: target.id, assigned_account_id: null, action_taken_at: null });

    const notes = await eventually(
      async () => (await call("GET", "/api/v1/notifications?types[]=admin.report", { token: moderator.token })).json as { type: string; account: { id: string } }[],
      (list) => Array.isArray(list) && list.length > 0,
    );
    expect(notes[0]).toMatchObject({ type: "admin.report", account: { id: reporter.id } });
    // Not the reported account, not the reporter.
    const targetNotes = (await call("GET", "/api/v1/notifications", { token: target.token })).json as { type: string }[];
    expect(targetNotes.some((n) => n.type === "admin.report")).toBe(false);
  });

  test("defaults: category other, no statuses, no comment", async () => {
    const response = await report(reporter, { account_id: target.id });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "Report");
    expect(response.json).toMatchObject({ category: "other", comment: "", status_ids: null, rule_ids: null, forwarded: false });
  });

  test("forward=true on a remote account: a Flag signed by the instance actor reaches its server's inbox", async () => {
    const [remoteStatus] = await context.sql<{ id: string }[]>`
      insert into statuses (account_id, content, uri, local) values (${remoteId}, '<p>buy now</p>', 'https://remote.example/users/x/statuses/1', false) returning id`;
    const response = await call("POST", "/api/v1/reports", {
      token: reporter.token,
      form: [["account_id", remoteId], ["category", "spam"], ["forward", "true"], ["comment", "spam bot"], ["status_ids[]", remoteStatus!.id]],
    });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ category: "spam", forwarded: true, target_account: { id: remoteId, acct: "cb_rep_remote@remote.example" } });
    const [delivered] = await eventually(async () => inboxed, (list) => list.length > 0);
    const flag = JSON.parse(new TextDecoder().decode(delivered!.body));
    expect(flag).toEqual({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: expect.stringMatching(new RegExp(`^${context.config.baseUrl}/`)),
      type: "Flag",
      actor: instanceActorUri(context.config),
      content: "spam bot",
      object: ["https://remote.example/users/x", "https://remote.example/users/x/statuses/1"],
    });
    // The reporter is not named anywhere: the instance actor signs.
    expect(new TextDecoder().decode(delivered!.body)).not.toContain(reporter.username);
    const signature = parseSignature({ method: "POST", urls: [delivered!.url], headers: delivered!.headers, body: delivered!.body });
    expect(signature.keyId).toBe(instanceKeyId(context.config));
    expect(signature.verify((await instanceKeys(context.sql)).publicKey)).toBe(true);
    expect(inboxed.length).toBe(1);
  });

  test("forward=true on a local account, or forward=false on a remote one, forwards nothing", async () => {
    const before = inboxed.length;
    expect((await report(reporter, { account_id: target.id, forward: true })).json.forwarded).toBe(false);
    expect((await report(reporter, { account_id: remoteId, forward: false })).json.forwarded).toBe(false);
    await Bun.sleep(500);
    expect(inboxed.length).toBe(before);
  });
});

describe("refused reports write nothing", () => {
  test("statuses of another account, invisible statuses, unknown ids → 404", async () => {
    const others = (await postStatus(context, other, { status: "innocent" })).statusId;
    const hidden = (await postStatus(context, target, { status: "secret", visibility: "direct" })).statusId;
    const before = await count();
    expect((await report(reporter, { account_id: target.id, status_ids: [others] })).status).toBe(404);
    expect((await report(reporter, { account_id: target.id, status_ids: [hidden] })).status).toBe(404);
    expect((await report(reporter, { account_id: target.id, status_ids: ["99999999999"] })).status).toBe(404);
    expect((await report(reporter, { account_id: target.id, status_ids: ["abc"] })).status).toBe(404);
    expect((await report(reporter, { account_id: "99999999999" })).status).toBe(404);
    expect((await report(reporter, { account_id: "../1" })).json).toEqual({ error: "Record not found" });
    expect(await count()).toBe(before);
  });

  test("rules: unknown, out of range, missing for violation, or given without violation → 422", async () => {
    const before = await count();
    for (const body of [
      { account_id: target.id, category: "violation", rule_ids: ["3"] },
      { account_id: target.id, category: "violation", rule_ids: ["0"] },
      { account_id: target.id, category: "violation", rule_ids: ["x"] },
      { account_id: target.id, category: "violation" },
      { account_id: target.id, category: "spam", rule_ids: ["1"] },
    ]) {
      const response = await report(reporter, body);
      expect(response.status).toBe(422);
      expect(typeof response.json.error).toBe("string");
    }
    expect(await count()).toBe(before);
  });

  test("bad input: comment over 1000 characters, unknown category, wrong types → 422; missing account → 400", async () => {
    const before = await count();
    const ok = await report(reporter, { account_id: target.id, comment: "c".repeat(1000) });
    expect(ok.status).toBe(200);
    for (const body of [
      { account_id: target.id, comment: "c".repeat(1001) },
      { account_id: target.id, category: "rude" },
      { account_id: { nested: true } },
      { account_id: target.id, status_ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) },
      { account_id: target.id, forward: "maybe" },
    ]) {
      const response = await report(reporter, body);
      expect(response.status).toBe(422);
      expect(Object.keys(response.json)).toEqual(["error"]);
    }
    // A missing parameter is 400, as Rails' ParameterMissing.
    expect((await report(reporter, {})).status).toBe(400);
    expect(await count()).toBe(before + 1);
  });

  test("tokens: none → 401, read-only → 403", async () => {
    expect((await call("POST", "/api/v1/reports", { json: { account_id: target.id } })).status).toBe(401);
    const { token } = await makeTestUser(context, "cb_rep_readonly", { scopes: "read" });
    expect((await call("POST", "/api/v1/reports", { token, json: { account_id: target.id } })).status).toBe(403);
  });
});

test("masto.js files a report", async () => {
  const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  try {
    const client = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: reporter.token });
    const status = (await postStatus(context, target, { status: "masto report" })).statusId;
    const created = await client.v1.reports.create({ accountId: target.id, statusIds: [status], comment: "via masto", category: "violation", ruleIds: ["1"] });
    expect(created).toMatchObject({ category: "violation", comment: "via masto", statusIds: [status], ruleIds: ["1"], actionTaken: false });
    expect(created.targetAccount.id).toBe(target.id);
    const refused = await client.v1.reports.create({ accountId: target.id, category: "violation", ruleIds: ["9"] }).catch((e) => e);
    expect(refused).toBeInstanceOf(MastoHttpError);
    expect((refused as MastoHttpError).statusCode).toBe(422);
  } finally {
    await web.stop(true);
  }
});

test("a remote Flag is stored once per id, keeping only the target's statuses", async () => {
  const own = (await postStatus(context, target, { status: "flagged remotely" })).statusId;
  const notOwn = (await postStatus(context, other, { status: "not the target's" })).statusId;
  const input = { uri: "https://remote.example/flags/1", reporterAccountId: remoteId, targetAccountId: target.id, statusIds: [own, notOwn, "garbage"], comment: "x".repeat(9000) };
  const first = await createReportFromRemote(context, input);
  expect(first.created).toBe(true);
  expect(first.report.status_ids).toEqual([own]);
  expect(first.report.comment.length).toBe(5000);
  const again = await createReportFromRemote(context, input);
  expect(again).toMatchObject({ created: false, report: { id: first.report.id } });
});
