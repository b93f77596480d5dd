/**
 * Mastodon's admin API: role and scope checks, domain blocks / allows, e-mail domain and IP blocks (and
 * their effect on sign-up), account moderation actions, measures. Entities are checked against Mastodon's
 * OpenAPI schema; the domain block and account flows also run through masto.js against a listening server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { issueToken } from "../../src/features/auth/tokens";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);
const tokens: Record<string, string> = {};
const ids = { admin: "", mod: "", target: "" };
let appToken: string;

const ADMIN_SCOPES = "read write admin:read admin:write";

beforeAll(async () => {
  // In-process requests come from 0.0.0.0; trusting it lets a test pick the client address with X-Forwarded-For.
  context = await testContext({ TRUSTED_PROXY_IP: "0.0.0.0", RATE_LIMITS_ENABLED: "false" });
  app = buildWebApp(context);
  const admin = await makeTestUser(context, "op_admin", { role: "Admin", scopes: ADMIN_SCOPES });
  const mod = await makeTestUser(context, "op_mod", { role: "Moderator", scopes: ADMIN_SCOPES });
  const user = await makeTestUser(context, "op_user", { scopes: ADMIN_SCOPES });
  const target = await makeTestUser(context, "op_target", { scopes: "read" });
  tokens.admin = admin.token!;
  tokens.mod = mod.token!;
  tokens.user = user.token!;
  tokens.adminNoScope = (await issueToken(context.sql, { userId: admin.account.user.id, applicationId: null, scopes: "read write" })).token;
  tokens.adminDomainRead = (await issueToken(context.sql, { userId: admin.account.user.id, applicationId: null, scopes: "admin:read:domain_blocks" })).token;
  ids.admin = admin.account.id;
  ids.mod = mod.account.id;
  ids.target = target.account.id;
  const [application] = await context.sql<{ id: string }[]>`
    insert into oauth_applications (name, client_id, client_secret, redirect_uris, scopes)
    values ('op admin test', 'op-admin-api', 'secret', array['urn:ietf:wg:oauth:2.0:oob'], 'read write')
    returning id`;
  appToken = (await issueToken(context.sql, { userId: null, applicationId: application!.id, scopes: "read write" })).token;
  await setSetting(context.sql, "registrations_mode", "open");
});
afterAll(async () => {
  // The run's queues are shared by every test file: take back the purge jobs these tests queued.
  for (const job of await context.queues.queue("default").getJobs(["waiting", "prioritized", "delayed", "failed"])) {
    if (job?.name === "admin.purge_domain" && String(job.data.domain).startsWith("op-")) await job.remove();
  }
  await resetSetting(context.sql, "registrations_mode");
  await context.close();
});

describe("who may call", () => {
  test("a non-staff user → 403; staff without an admin scope → 403; no token → 401", async () => {
    for (const path of ["/api/v1/admin/domain_blocks", "/api/v1/admin/accounts", "/api/v2/admin/accounts", "/api/v1/admin/ip_blocks", "/api/v1/admin/email_domain_blocks", "/api/v1/admin/domain_allows"]) {
      const user = await call("GET", path, { token: tokens.user });
      expect(user.status).toBe(403);
      expect(user.json).toEqual({ error: expect.any(String) });
      expect((await call("GET", path, { token: tokens.adminNoScope })).status).toBe(403);
      expect((await call("GET", path)).status).toBe(401);
    }
    // A granular scope covers only its own resource.
    expect((await call("GET", "/api/v1/admin/domain_blocks", { token: tokens.adminDomainRead })).status).toBe(200);
    expect((await call("GET", "/api/v1/admin/ip_blocks", { token: tokens.adminDomainRead })).status).toBe(403);
    // Moderators manage accounts but not federation.
    expect((await call("GET", "/api/v1/admin/accounts", { token: tokens.mod })).status).toBe(200);
    expect((await call("GET", "/api/v1/admin/domain_blocks", { token: tokens.mod })).status).toBe(403);
  });
});

describe("domain blocks and allows", () => {
  test("create, read, list, update, duplicate refused, delete", async () => {
    const created = await call("POST", "/api/v1/admin/domain_blocks", {
      token: tokens.admin,
      json: { domain: "OP-Spam.example.test", severity: "suspend", reject_media: true, public_comment: "spam", obfuscate: true },
    });
    expect(created.status).toBe(200);
    expectMatchesSchema(created.json, "AdminDomainBlock");
    expect(created.json).toMatchObject({ domain: "op-spam.example.test", severity: "suspend", reject_media: true, reject_reports: false, public_comment: "spam", private_comment: null, obfuscate: true });
    expect(created.json.digest).toMatch(/^[0-9a-f]{64}$/);
    // The suspension queued the purge of the domain's cached content.
    const queued = await context.queues.queue("default").getJobs(["waiting", "prioritized", "delayed", "active", "completed"]);
    expect(queued.some((j) => j.name === "admin.purge_domain" && j.data.domain === "op-spam.example.test")).toBe(true);

    const duplicate = await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, form: { domain: "op-spam.example.test" } });
    expect(duplicate.status).toBe(422);
    expect(duplicate.json.existing_domain_block.id).toBe(created.json.id);

    const list = await call("GET", "/api/v1/admin/domain_blocks", { token: tokens.admin });
    expectMatchesSchema(list.json, { type: "array", items: { $ref: "#/components/schemas/AdminDomainBlock" } });
    expect(list.json.map((b: { id: string }) => b.id)).toContain(created.json.id);

    const updated = await call("PUT", `/api/v1/admin/domain_blocks/${created.json.id}`, { token: tokens.admin, form: { severity: "silence", reject_reports: "true" } });
    expect(updated.json).toMatchObject({ severity: "silence", reject_reports: true, reject_media: true, public_comment: "spam" });

    expect((await call("GET", `/api/v1/admin/domain_blocks/${created.json.id}`, { token: tokens.admin })).json.severity).toBe("silence");
    expect((await call("DELETE", `/api/v1/admin/domain_blocks/${created.json.id}`, { token: tokens.admin })).status).toBe(200);
    expect((await call("GET", `/api/v1/admin/domain_blocks/${created.json.id}`, { token: tokens.admin })).status).toBe(404);
    expect((await call("GET", "/api/v1/admin/domain_blocks/not-an-id", { token: tokens.admin })).status).toBe(404);
  });

  test("bad input → 422, nothing written", async () => {
    const before = (await call("GET", "/api/v1/admin/domain_blocks", { token: tokens.admin })).json.length;
    expect((await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, json: { domain: "not a domain" } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, json: { domain: "ok.example.test", severity: "banish" } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, json: { domain: "ok.example.test", public_comment: "x".repeat(1001) } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, json: {} })).status).toBe(400);
    expect((await call("GET", "/api/v1/admin/domain_blocks", { token: tokens.admin })).json.length).toBe(before);
  });

  test("domain allows", async () => {
    const created = await call("POST", "/api/v1/admin/domain_allows", { token: tokens.admin, json: { domain: "op-friends.example.test" } });
    expectMatchesSchema(created.json, "AdminDomainAllow");
    const list = await call("GET", "/api/v1/admin/domain_allows", { token: tokens.admin });
    expectMatchesSchema(list.json, { type: "array", items: { $ref: "#/components/schemas/AdminDomainAllow" } });
    expect((await call("GET", `/api/v1/admin/domain_allows/${created.json.id}`, { token: tokens.admin })).json.domain).toBe("op-friends.example.test");
    expect((await call("DELETE", `/api/v1/admin/domain_allows/${created.json.id}`, { token: tokens.admin })).status).toBe(200);
    expect((await call("DELETE", `/api/v1/admin/domain_allows/${created.json.id}`, { token: tokens.admin })).status).toBe(404);
  });
});

describe("sign-up blocks", () => {
  const signUp = (username: string, email: string, ip = "192.0.2.50") =>
    call("POST", "/api/v1/accounts", { token: appToken, headers: { "x-forwarded-for": ip }, json: { username, email, password: "long enough secret", agreement: true, locale: "en" } });

  test("an e-mail domain block refuses sign-ups at that domain and its subdomains", async () => {
    const block = await call("POST", "/api/v1/admin/email_domain_blocks", { token: tokens.admin, json: { domain: "op-burner.example" } });
    expect(block.status).toBe(200);
    expectMatchesSchema(block.json, "AdminEmailDomainBlock");
    expect(block.json.history).toHaveLength(7);
    expect((await call("POST", "/api/v1/admin/email_domain_blocks", { token: tokens.admin, json: { domain: "op-burner.example" } })).status).toBe(422);

    const refused = await signUp("op_burner1", "someone@op-burner.example");
    expect(refused.status).toBe(422);
    expect(refused.json.details.email[0].error).toBe("ERR_BLOCKED");
    expect((await signUp("op_burner2", "someone@mail.op-burner.example")).status).toBe(422);
    const [none] = await context.sql`select 1 from accounts where username in ('op_burner1', 'op_burner2')`;
    expect(none).toBeUndefined();
    expect((await signUp("op_fine1", "someone@op-fine.example")).status).toBe(200);

    const list = await call("GET", "/api/v1/admin/email_domain_blocks", { token: tokens.admin });
    expectMatchesSchema(list.json, { type: "array", items: { $ref: "#/components/schemas/AdminEmailDomainBlock" } });
    expect((await call("DELETE", `/api/v1/admin/email_domain_blocks/${block.json.id}`, { token: tokens.admin })).status).toBe(200);
    expect((await signUp("op_burner3", "someone@op-burner.example")).status).toBe(200);
  });

  test("IP blocks: sign_up_block refuses, sign_up_requires_approval makes the account pending, expiry and bad input", async () => {
    const block = await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, json: { ip: "198.51.100.9/24", severity: "sign_up_block", comment: "abuse", expires_in: 3600 } });
    expect(block.status).toBe(200);
    expectMatchesSchema(block.json, "AdminIpBlock");
    expect(block.json.ip).toBe("198.51.100.0/24");
    expect((await signUp("op_ipblocked", "ipblocked@op-fine.example", "198.51.100.77")).status).toBe(403);
    expect((await signUp("op_ipok", "ipok@op-fine.example", "203.0.113.5")).status).toBe(200);

    const approval = await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, form: { ip: "203.0.113.99", severity: "sign_up_requires_approval" } });
    expect(approval.json.ip).toBe("203.0.113.99/32");
    expect((await signUp("op_ippending", "ippending@op-fine.example", "203.0.113.99")).status).toBe(200);
    const [pending] = await context.sql<{ approved: boolean }[]>`select approved from users where email = 'ippending@op-fine.example'`;
    expect(pending!.approved).toBe(false);

    const changed = await call("PUT", `/api/v1/admin/ip_blocks/${block.json.id}`, { token: tokens.admin, json: { severity: "no_access" } });
    expect(changed.json).toMatchObject({ severity: "no_access", comment: "abuse" });
    const list = await call("GET", "/api/v1/admin/ip_blocks", { token: tokens.admin });
    expectMatchesSchema(list.json, { type: "array", items: { $ref: "#/components/schemas/AdminIpBlock" } });

    expect((await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, json: { ip: "999.1.1.1", severity: "no_access" } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, json: { ip: "10.0.0.1", severity: "nope" } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, json: { ip: "10.0.0.1", severity: "no_access", expires_in: -5 } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, json: { ip: "198.51.100.0/24", severity: "no_access" } })).status).toBe(422);

    // An expired block no longer applies (nor lists).
    await context.sql`update ip_blocks set expires_at = now() - interval '1 second' where id = ${block.json.id}`;
    expect((await signUp("op_ipafter", "ipafter@op-fine.example", "198.51.100.78")).status).toBe(200);
    expect((await call("GET", `/api/v1/admin/ip_blocks/${block.json.id}`, { token: tokens.admin })).status).toBe(404);
    expect((await call("DELETE", `/api/v1/admin/ip_blocks/${approval.json.id}`, { token: tokens.admin })).status).toBe(200);
  });
});

describe("accounts", () => {
  test("list with filters (v1 and v2), one account, shapes", async () => {
    const v1 = await call("GET", "/api/v1/admin/accounts?local=true&username=op_&limit=200", { token: tokens.mod });
    expect(v1.status).toBe(200);
    expectMatchesSchema(v1.json, { type: "array", items: { $ref: "#/components/schemas/AdminAccount" } });
    const names = v1.json.map((a: { username: string }) => a.username);
    expect(names).toEqual(expect.arrayContaining(["op_admin", "op_mod", "op_user", "op_target"]));
    expect(names.every((n: string) => n.startsWith("op_"))).toBe(true);

    const staff = await call("GET", "/api/v2/admin/accounts?permissions=staff&username=op_", { token: tokens.mod });
    expect(staff.json.map((a: { username: string }) => a.username).sort()).toEqual(["op_admin", "op_mod"]);
    const byEmail = await call("GET", "/api/v2/admin/accounts?origin=local&email=op_target%40", { token: tokens.mod });
    expect(byEmail.json.map((a: { username: string }) => a.username)).toEqual(["op_target"]);
    expect((await call("GET", "/api/v2/admin/accounts?status=banished", { token: tokens.mod })).status).toBe(422);
    expect((await call("GET", "/api/v1/admin/accounts?ip=not-an-ip", { token: tokens.mod })).status).toBe(422);

    const paged = await call("GET", "/api/v1/admin/accounts?username=op_&limit=2", { token: tokens.mod });
    expect(paged.json).toHaveLength(2);
    expect(paged.headers.get("link")).toContain("max_id=");

    const one = await call("GET", `/api/v1/admin/accounts/${ids.target}`, { token: tokens.mod });
    expectMatchesSchema(one.json, "AdminAccount");
    expect(one.json).toMatchObject({ id: ids.target, username: "op_target", email: "op_target@example.com", confirmed: true, approved: true, suspended: false, domain: null });
    expect(one.json.account.id).toBe(ids.target);
    expect((await call("GET", "/api/v1/admin/accounts/123", { token: tokens.mod })).status).toBe(404);
  });

  test("actions and their undoing; strikes recorded; staff rank respected", async () => {
    const act = (type: string, token = tokens.mod, id = ids.target) => call("POST", `/api/v1/admin/accounts/${id}/action`, { token, json: { type, text: `because ${type}` } });
    const view = async () => (await call("GET", `/api/v1/admin/accounts/${ids.target}`, { token: tokens.mod })).json;

    expect((await act("silence")).status).toBe(200);
    expect(await view()).toMatchObject({ silenced: true });
    expect((await call("POST", `/api/v1/admin/accounts/${ids.target}/unsilence`, { token: tokens.mod })).json).toMatchObject({ silenced: false });

    // A sensitized account's posts show as sensitive to everyone but itself (Mastodon's StatusSerializer).
    const [targetUser] = await context.sql<{ id: string }[]>`select id::text from users where account_id = ${ids.target}`;
    const writerToken = (await issueToken(context.sql, { userId: targetUser!.id, applicationId: null, scopes: "read write" })).token;
    const posted = await call("POST", "/api/v1/statuses", { token: writerToken, json: { status: "op target's picture post" } });
    expect(posted.json.sensitive).toBe(false);
    await act("sensitive");
    expect(await view()).toMatchObject({ sensitized: true });
    expect((await call("GET", `/api/v1/statuses/${posted.json.id}`, { token: tokens.user })).json.sensitive).toBe(true);
    expect((await call("GET", `/api/v1/statuses/${posted.json.id}`)).json.sensitive).toBe(true);
    expect((await call("GET", `/api/v1/statuses/${posted.json.id}`, { token: writerToken })).json.sensitive).toBe(false);
    expectMatchesSchema((await call("POST", `/api/v1/admin/accounts/${ids.target}/unsensitive`, { token: tokens.mod })).json, "AdminAccount");
    expect((await call("GET", `/api/v1/statuses/${posted.json.id}`, { token: tokens.user })).json.sensitive).toBe(false);

    await act("disable");
    expect(await view()).toMatchObject({ disabled: true });
    await call("POST", `/api/v1/admin/accounts/${ids.target}/enable`, { token: tokens.mod });

    await act("suspend");
    expect(await view()).toMatchObject({ suspended: true });
    // The suspended account's token stops working.
    const targetToken = (await issueToken(context.sql, { userId: (await context.sql<{ id: string }[]>`select id from users where account_id = ${ids.target}`)[0]!.id, applicationId: null, scopes: "read" })).token;
    expect((await call("GET", "/api/v1/accounts/verify_credentials", { token: targetToken })).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/accounts/${ids.target}/unsuspend`, { token: tokens.mod })).json).toMatchObject({ suspended: false });
    expect((await call("GET", "/api/v1/accounts/verify_credentials", { token: targetToken })).status).toBe(200);

    const strikes = await context.sql<{ action: string; text: string }[]>`select action, text from account_warnings where account_id = ${ids.target} order by id`;
    expect(strikes.map((s) => s.action)).toEqual(["silence", "sensitive", "disable", "suspend"]);
    expect(strikes[0]!.text).toBe("because silence");

    // A moderator cannot act on an admin, nobody on themselves; bad types are 422.
    expect((await act("suspend", tokens.mod, ids.admin)).status).toBe(403);
    expect((await act("suspend", tokens.admin, ids.admin)).status).toBe(403);
    expect((await act("obliterate")).status).toBe(422);
    expect((await call("POST", `/api/v1/admin/accounts/${ids.target}/action`, { token: tokens.user, json: { type: "suspend" } })).status).toBe(403);
    expect((await view()).suspended).toBe(false);
  });

  test("approval queue: approve and reject pending sign-ups", async () => {
    await setSetting(context.sql, "registrations_mode", "approved");
    try {
      for (const name of ["op_pend_a", "op_pend_b"]) {
        const res = await call("POST", "/api/v1/accounts", { token: appToken, json: { username: name, email: `${name}@op-fine.example`, password: "long enough secret", agreement: true, reason: "hi" } });
        expect(res.status).toBe(200);
      }
    } finally {
      await setSetting(context.sql, "registrations_mode", "open");
    }
    const pending = await call("GET", "/api/v2/admin/accounts?status=pending&username=op_pend", { token: tokens.mod });
    expect(pending.json.map((a: { username: string }) => a.username).sort()).toEqual(["op_pend_a", "op_pend_b"]);
    expect(pending.json[0]).toMatchObject({ approved: false, invite_request: "hi" });
    const [a, b] = [...pending.json].sort((x: { username: string }, y: { username: string }) => x.username.localeCompare(y.username));

    const approved = await call("POST", `/api/v1/admin/accounts/${a.id}/approve`, { token: tokens.mod });
    expect(approved.json).toMatchObject({ username: "op_pend_a", approved: true });
    expect((await call("POST", `/api/v1/admin/accounts/${a.id}/approve`, { token: tokens.mod })).status).toBe(403);
    expect((await call("POST", `/api/v1/admin/accounts/${b.id}/reject`, { token: tokens.mod })).status).toBe(200);
    expect((await call("GET", `/api/v1/admin/accounts/${b.id}`, { token: tokens.mod })).status).toBe(404);
  });
});

test("measures: daily counts with totals, unknown keys left out, bad ranges refused", async () => {
  const today = new Date().toISOString().slice(0, 10);
  const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  const res = await call("POST", "/api/v1/admin/measures", { token: tokens.mod, json: { keys: ["new_users", "active_users", "interactions", "opened_reports", "tag_uses"], start_at: weekAgo, end_at: today } });
  expect(res.status).toBe(200);
  expectMatchesSchema(res.json, { type: "array", items: { $ref: "#/components/schemas/AdminMeasure" } });
  expect(res.json.map((m: { key: string }) => m.key)).toEqual(["new_users", "active_users", "interactions", "opened_reports"]);
  const newUsers = res.json[0];
  expect(newUsers.data).toHaveLength(7);
  const [{ n }] = (await context.sql<{ n: number }[]>`select count(*)::int n from users where created_at >= ${weekAgo}::date`) as unknown as [{ n: number }];
  expect(Number(newUsers.total)).toBe(n);
  expect(Number(newUsers.data[6].value)).toBeGreaterThanOrEqual(4);

  expect((await call("POST", "/api/v1/admin/measures", { token: tokens.mod, json: { keys: ["new_users"], start_at: today, end_at: weekAgo } })).status).toBe(422);
  expect((await call("POST", "/api/v1/admin/measures", { token: tokens.mod, json: { keys: ["new_users"], start_at: "2000-01-01", end_at: today } })).status).toBe(422);
  expect((await call("POST", "/api/v1/admin/measures", { token: tokens.user, json: { keys: ["new_users"], start_at: weekAgo, end_at: today } })).status).toBe(403);
});

test("masto.js drives domain blocks and account actions", async () => {
  const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  try {
    const masto = createRestAPIClient({ url: `http://127.0.0.1:${server.server!.port}`, accessToken: tokens.admin });
    const block = await masto.v1.admin.domainBlocks.create({ domain: "op-masto.example.test", severity: "silence", rejectMedia: true });
    expect(block.domain).toBe("op-masto.example.test");
    expect(block.rejectMedia).toBe(true);
    const updated = await masto.v1.admin.domainBlocks.$select(block.id).update({ severity: "noop", rejectReports: true });
    expect(updated.severity).toBe("noop");
    const listed = await masto.v1.admin.domainBlocks.list();
    expect(listed.map((b) => b.id)).toContain(block.id);
    await masto.v1.admin.domainBlocks.$select(block.id).remove();

    await masto.v1.admin.accounts.$select(ids.target).action.create({ type: "silence", text: "via masto" });
    const account = await masto.v1.admin.accounts.$select(ids.target).fetch();
    expect(account.silenced).toBe(true);
    expect((await masto.v1.admin.accounts.$select(ids.target).unsilence()).silenced).toBe(false);
  } finally {
    await server.stop(true);
  }
});

test("reports: list unresolved, read, assign, recategorise, resolve (also through an account action), reopen", async () => {
  const poster = await makeTestUser(context, "op_poster", { scopes: "read write" });
  const post = await call("POST", "/api/v1/statuses", { token: poster.token, json: { status: "op reportable post" } });
  expect(post.status).toBe(200);
  const filed = await call("POST", "/api/v1/reports", { token: tokens.user, json: { account_id: poster.account.id, status_ids: [post.json.id], comment: "op spam", category: "other" } });
  expect(filed.status).toBe(200);
  const id = filed.json.id as string;

  const list = await call("GET", `/api/v1/admin/reports?target_account_id=${poster.account.id}`, { token: tokens.mod });
  expect(list.status).toBe(200);
  expectMatchesSchema(list.json, { type: "array", items: { $ref: "#/components/schemas/AdminReport" } });
  expect(list.json.map((r: { id: string }) => r.id)).toEqual([id]);
  expect(list.json[0]).toMatchObject({ action_taken: false, comment: "op spam", category: "other", assigned_account: null });
  expect(list.json[0].account.username).toBe("op_user");
  expect(list.json[0].target_account.username).toBe("op_poster");
  expect(list.json[0].statuses.map((s: { id: string }) => s.id)).toEqual([post.json.id]);

  const assigned = await call("POST", `/api/v1/admin/reports/${id}/assign_to_self`, { token: tokens.mod });
  expectMatchesSchema(assigned.json, "AdminReport");
  expect(assigned.json.assigned_account.id).toBe(ids.mod);
  expect((await call("POST", `/api/v1/admin/reports/${id}/unassign`, { token: tokens.mod })).json.assigned_account).toBeNull();
  expect((await call("PUT", `/api/v1/admin/reports/${id}`, { token: tokens.mod, json: { category: "spam" } })).json.category).toBe("spam");
  expect((await call("PUT", `/api/v1/admin/reports/${id}`, { token: tokens.mod, json: { category: "nonsense" } })).status).toBe(422);

  const resolved = await call("POST", `/api/v1/admin/reports/${id}/resolve`, { token: tokens.mod });
  expect(resolved.json).toMatchObject({ action_taken: true });
  expect(resolved.json.action_taken_by_account.id).toBe(ids.mod);
  expect((await call("GET", `/api/v1/admin/reports?target_account_id=${poster.account.id}`, { token: tokens.mod })).json).toEqual([]);
  expect((await call("GET", `/api/v1/admin/reports?resolved=true&target_account_id=${poster.account.id}`, { token: tokens.mod })).json).toHaveLength(1);
  expect((await call("POST", `/api/v1/admin/reports/${id}/reopen`, { token: tokens.mod })).json.action_taken).toBe(false);

  // An account action naming the report resolves it and records the strike against it.
  expect((await call("POST", `/api/v1/admin/accounts/${poster.account.id}/action`, { token: tokens.mod, json: { type: "none", report_id: id, text: "warned" } })).status).toBe(200);
  expect((await call("GET", `/api/v1/admin/reports/${id}`, { token: tokens.mod })).json.action_taken).toBe(true);
  const [strike] = await context.sql`select action, report_id::text from account_warnings where account_id = ${poster.account.id}`;
  expect(strike).toMatchObject({ action: "none", report_id: id });

  expect((await call("GET", "/api/v1/admin/reports", { token: tokens.user })).status).toBe(403);
  expect((await call("GET", "/api/v1/admin/reports/999", { token: tokens.mod })).status).toBe(404);
});

test("hostile input: huge or malformed ids, bad pagination, NUL bytes, wrong body types → 4xx, never 500", async () => {
  for (const path of [
    "/api/v1/admin/accounts/9223372036854775808",
    "/api/v1/admin/accounts/99999999999999999999",
    "/api/v1/admin/accounts/-1",
    "/api/v1/admin/reports/9223372036854775808",
    "/api/v1/admin/ip_blocks/..%2F..%2Fetc",
  ]) {
    expect((await call("GET", path, { token: tokens.admin })).status).toBe(404);
  }
  expect((await call("GET", "/api/v1/admin/domain_blocks/9223372036854775808", { token: tokens.admin })).status).toBe(404);
  expect((await call("GET", "/api/v1/admin/accounts?max_id=abc", { token: tokens.admin })).status).toBe(400);
  expect((await call("GET", "/api/v1/admin/accounts?limit=-1", { token: tokens.admin })).status).toBe(400);
  expect((await call("GET", "/api/v1/admin/reports?account_id=9223372036854775808", { token: tokens.admin })).status).toBe(422);
  expect((await call("POST", `/api/v1/admin/accounts/${ids.target}/action`, { token: tokens.admin, json: { type: "none", report_id: "9223372036854775808" } })).status).toBe(422);
  expect((await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, json: { domain: ["a.test"] } })).status).toBe(422);
  expect((await call("POST", "/api/v1/admin/ip_blocks", { token: tokens.admin, json: { ip: { a: 1 }, severity: "no_access" } })).status).toBe(422);
  const nul = await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, json: { domain: "op-nul.example.test", private_comment: "a\u0000b" } });
  expect(nul.status).toBe(200);
  expect(nul.json.private_comment).toBe("ab");
  const broken = await call("POST", "/api/v1/admin/domain_blocks", { token: tokens.admin, headers: { "content-type": "application/json" }, json: undefined, form: undefined });
  expect(broken.status).toBeLessThan(500);
});

test("DELETE /api/v1/admin/accounts/:id removes a suspended account's data, and only a suspended one's", async () => {
  const victim = await makeTestUser(context, "op_doomed", { scopes: "read write" });
  const posted = await call("POST", "/api/v1/statuses", { token: victim.token, json: { status: "op doomed post" } });
  expect(posted.status).toBe(200);
  expect((await call("DELETE", `/api/v1/admin/accounts/${victim.account.id}`, { token: tokens.mod })).status).toBe(403);
  await call("POST", `/api/v1/admin/accounts/${victim.account.id}/action`, { token: tokens.mod, json: { type: "suspend" } });
  const deleted = await call("DELETE", `/api/v1/admin/accounts/${victim.account.id}`, { token: tokens.mod });
  expect(deleted.status).toBe(200);
  expectMatchesSchema(deleted.json, "AdminAccount");
  expect((await call("GET", `/api/v1/admin/accounts/${victim.account.id}`, { token: tokens.mod })).status).toBe(404);
  const [left] = await context.sql`select 1 from statuses where id = ${posted.json.id}`;
  expect(left).toBeUndefined();
  // Remote: same rule.
  const [remote] = await context.sql<{ id: string }[]>`
    insert into accounts (username, domain, uri, suspended_at) values ('op_rdoomed', 'op-remote.example.test', 'https://op-remote.example.test/u/op_rdoomed', now()) returning id::text`;
  expect((await call("DELETE", `/api/v1/admin/accounts/${remote!.id}`, { token: tokens.mod })).json.domain).toBe("op-remote.example.test");
  expect((await call("DELETE", `/api/v1/admin/accounts/${ids.admin}`, { token: tokens.mod })).status).toBe(403);
});
