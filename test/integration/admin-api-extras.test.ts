/**
 * The rest of Mastodon's admin API — canonical e-mail blocks (and their effect on sign-up and suspension),
 * dimensions, retention cohorts, trends review (and its effect on the public trends and on search) — plus
 * the account action's warning presets and freeze, and the admin web UI's moderation forms (notes on
 * accounts and reports, the action form with its strike, deleting reported posts). Entities are checked
 * against Mastodon's OpenAPI schema; masto.js drives the endpoints it has, against a listening server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { createRestAPIClient, type mastodon } from "masto";
import { buildWebApp } from "../../src/api/app";
import { canonicalEmail, canonicalEmailHash } from "../../src/features/admin/canonical-emails";
import { issueToken } from "../../src/features/auth/tokens";
import { attachFederatedCard } from "../../src/features/cards/service";
import { createReport } from "../../src/features/reports/service";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { refreshTrendsJob } from "../../src/features/trends/jobs";
import { inProcessApi } from "../helpers/api";
import { Browser, hiddenFields } from "../helpers/browser";
import { chromiumPath, launchChromium } from "../helpers/chromium";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser, TEST_PASSWORD } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let server: ReturnType<ReturnType<typeof buildWebApp>["listen"]>;
let base: string;
let masto: mastodon.rest.Client;
const call = inProcessApi(() => app);
const tokens: Record<string, string> = {};
const ids = { admin: "", mod: "", mod2: "", user: "", tag: "", card: "", trendingStatus: "" };
let appToken: string;

const ADMIN_SCOPES = "read write admin:read admin:write";
const ARTIFACTS = "test-artifacts/admin-api-extras";

beforeAll(async () => {
  context = await testContext({ TRUSTED_PROXY_IP: "0.0.0.0", RATE_LIMITS_ENABLED: "false" });
  app = buildWebApp(context);
  server = app.listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${server.server!.port}`;
  for (const [name, role] of [
    ["admin", "Admin"],
    ["mod", "Moderator"],
    ["mod2", "Moderator"],
    ["user", undefined],
  ] as const) {
    const made = await makeTestUser(context, `ad_${name}`, { role, scopes: ADMIN_SCOPES });
    tokens[name] = made.token!;
    ids[name] = made.account.id;
  }
  const adminUserId = (await context.sql<{ id: string }[]>`select id from users where account_id = ${ids.admin}`)[0]!.id;
  tokens.adminNoScope = (await issueToken(context.sql, { userId: adminUserId, applicationId: null, scopes: "read write" })).token;
  tokens.adminCanonicalRead = (await issueToken(context.sql, { userId: adminUserId, applicationId: null, scopes: "admin:read:canonical_email_blocks" })).token;
  const [application] = await context.sql<{ id: string }[]>`
    insert into oauth_applications (name, client_id, client_secret, redirect_uris, scopes)
    values ('ad admin extras', 'ad-admin-extras', 'secret', array['urn:ietf:wg:oauth:2.0:oob'], 'read write')
    returning id`;
  appToken = (await issueToken(context.sql, { userId: null, applicationId: application!.id, scopes: "read write" })).token;
  masto = createRestAPIClient({ url: base, accessToken: tokens.admin });
  await setSetting(context.sql, "registrations_mode", "open");
});
afterAll(async () => {
  await resetSetting(context.sql, "registrations_mode");
  await server.stop(true);
  await context.close();
});

describe("who may call", () => {
  test("canonical e-mail blocks are for admins; dashboards and trends for moderators; others 403, no token 401", async () => {
    const reads: [string, string, unknown?][] = [
      ["GET", "/api/v1/admin/canonical_email_blocks"],
      ["POST", "/api/v1/admin/dimensions", { keys: ["languages"] }],
      ["POST", "/api/v1/admin/retention", { start_at: "2026-01-01", end_at: "2026-01-02", frequency: "day" }],
      ["GET", "/api/v1/admin/trends/tags"],
      ["GET", "/api/v1/admin/trends/statuses"],
      ["GET", "/api/v1/admin/trends/links"],
      ["GET", "/api/v1/admin/trends/links/publishers"],
    ];
    for (const [method, path, json] of reads) {
      const user = await call(method, path, { token: tokens.user, json });
      expect(user.status).toBe(403);
      expect(user.json).toEqual({ error: expect.any(String) });
      expect((await call(method, path, { token: tokens.adminNoScope, json })).status).toBe(403);
      expect((await call(method, path, { json })).status).toBe(401);
      expect((await call(method, path, { token: tokens.admin, json })).status).toBe(200);
      // Moderators: view_dashboard and manage_taxonomies, not manage_blocks.
      expect((await call(method, path, { token: tokens.mod, json })).status).toBe(path.includes("canonical") ? 403 : 200);
    }
    expect((await call("GET", "/api/v1/admin/canonical_email_blocks", { token: tokens.adminCanonicalRead })).status).toBe(200);
    expect((await call("POST", "/api/v1/admin/canonical_email_blocks", { token: tokens.adminCanonicalRead, json: { email: "x@ad.example" } })).status).toBe(403);
    expect((await call("POST", "/api/v1/admin/trends/tags/1/approve", { token: tokens.user })).status).toBe(403);
  });
});

describe("canonical e-mail blocks", () => {
  test("Mastodon's canonical form: lower case, no dots or +tag in the local part; sha256 hex", () => {
    expect(canonicalEmail("Ad.Spam.Mer+news@Example.COM")).toBe("adspammer@example.com");
    expect(canonicalEmail("plain@example.com")).toBe("plain@example.com");
    expect(canonicalEmailHash("A.B+c@x.test")).toBe(new Bun.CryptoHasher("sha256").update("ab@x.test").digest("hex"));
  });

  test("masto.js: create by address, test, list, show, remove; duplicates and bad input refused", async () => {
    const block = await masto.v1.admin.canonicalEmailBlocks.create({ email: "Ad.Blocked+one@Example.org" });
    expect(block.canonicalEmailHash).toBe(canonicalEmailHash("adblocked@example.org"));
    // Every spelling of the same mailbox matches; another mailbox does not.
    expect((await masto.v1.admin.canonicalEmailBlocks.test({ email: "adblocked+two@example.org" })).map((b) => b.id)).toEqual([block.id]);
    expect(await masto.v1.admin.canonicalEmailBlocks.test({ email: "someone.else@example.org" })).toEqual([]);
    expect((await masto.v1.admin.canonicalEmailBlocks.$select(block.id).fetch()).canonicalEmailHash).toBe(block.canonicalEmailHash);

    const byHash = await call("POST", "/api/v1/admin/canonical_email_blocks", { token: tokens.admin, form: { canonical_email_hash: canonicalEmailHash("other@ad.example") } });
    expect(byHash.status).toBe(200);
    expectMatchesSchema(byHash.json, "AdminCanonicalEmailBlock");
    const list = await call("GET", "/api/v1/admin/canonical_email_blocks?limit=1", { token: tokens.admin });
    expectMatchesSchema(list.json, arrayOf("AdminCanonicalEmailBlock"));
    expect(list.json.map((b: { id: string }) => b.id)).toEqual([byHash.json.id]);
    expect(list.headers.get("link")).toContain(`max_id=${byHash.json.id}`);

    const duplicate = await call("POST", "/api/v1/admin/canonical_email_blocks", { token: tokens.admin, json: { email: "adblocked@EXAMPLE.org" } });
    expect(duplicate.status).toBe(422);
    expect(duplicate.json.error).toContain("already been taken");
    for (const json of [{}, { canonical_email_hash: "not-a-hash" }, { email: "" }, { email: "x".repeat(300) }, { email: ["a@b.c"] }]) {
      const bad = await call("POST", "/api/v1/admin/canonical_email_blocks", { token: tokens.admin, json });
      expect(bad.status).toBe(422);
      expect(bad.json).toEqual({ error: expect.any(String) });
    }
    expect((await call("POST", "/api/v1/admin/canonical_email_blocks/test", { token: tokens.admin, json: {} })).status).toBe(400);

    await masto.v1.admin.canonicalEmailBlocks.$select(byHash.json.id).remove();
    expect((await call("GET", `/api/v1/admin/canonical_email_blocks/${byHash.json.id}`, { token: tokens.admin })).status).toBe(404);
    expect((await call("DELETE", `/api/v1/admin/canonical_email_blocks/${byHash.json.id}`, { token: tokens.admin })).status).toBe(404);
    expect((await call("GET", "/api/v1/admin/canonical_email_blocks/nope", { token: tokens.admin })).status).toBe(404);
    await masto.v1.admin.canonicalEmailBlocks.$select(block.id).remove();
  });

  test("sign-up with a blocked canonical address → 422 like an e-mail domain block; allowed once lifted", async () => {
    const signUp = (username: string, email: string) =>
      call("POST", "/api/v1/accounts", { token: appToken, json: { username, email, password: "long enough secret", agreement: true, locale: "en" } });
    const block = await call("POST", "/api/v1/admin/canonical_email_blocks", { token: tokens.admin, json: { email: "ad.evader@ad-mail.example" } });
    const refused = await signUp("ad_evader", "AD.E.V.A.D.E.R+again@ad-mail.example");
    expect(refused.status).toBe(422);
    expect(refused.json.details.email[0].error).toBe("ERR_BLOCKED");
    expect((await context.sql`select 1 from users where email ilike 'ad.e.v.a.d.e.r%'`).length).toBe(0);
    await call("DELETE", `/api/v1/admin/canonical_email_blocks/${block.json.id}`, { token: tokens.admin });
    expect((await signUp("ad_evader", "AD.E.V.A.D.E.R+again@ad-mail.example")).status).toBe(200);
  });

  test("suspending a local account blocks its address; unsuspending lifts that block", async () => {
    const victim = await makeTestUser(context, "ad_suspendee");
    expect((await call("POST", `/api/v1/admin/accounts/${victim.account.id}/action`, { token: tokens.admin, json: { type: "suspend" } })).status).toBe(200);
    const hits = await call("POST", "/api/v1/admin/canonical_email_blocks/test", { token: tokens.admin, json: { email: "ad_suspendee+new@example.com" } });
    expect(hits.json).toHaveLength(1);
    expect((await call("POST", `/api/v1/admin/accounts/${victim.account.id}/unsuspend`, { token: tokens.admin })).status).toBe(200);
    expect((await call("POST", "/api/v1/admin/canonical_email_blocks/test", { token: tokens.admin, json: { email: "ad_suspendee@example.com" } })).json).toEqual([]);
  });
});

describe("dimensions and retention", () => {
  test("masto.js dimensions: languages, sources, servers, space and versions; a tag's servers; unknown keys left out", async () => {
    const poster = await makeTestUser(context, "ad_dim", { scopes: "read write" });
    for (const [status, language] of [["ad dimension one #addim", "nl"], ["ad dimension two #addim", "nl"], ["ad dimension three", "de"]]) {
      expect((await call("POST", "/api/v1/statuses", { token: poster.token, json: { status, language } })).status).toBe(200);
    }
    const [tag] = await context.sql<{ id: string }[]>`select id from tags where name = 'addim'`;
    const today = new Date().toISOString().slice(0, 10);
    const dims = await masto.v1.admin.dimensions.create({
      keys: ["languages", "sources", "servers", "space_usage", "software_versions", "tag_servers", "tag_languages", "instance_accounts", "bogus" as never],
      startAt: today,
      endAt: today,
      limit: "50",
      tagServers: { id: tag!.id },
      tagLanguages: { id: tag!.id },
      instanceAccounts: { domain: "nowhere.ad.example" },
    });
    // The schema names Mastodon's keys (human_key), which masto.js turns into camelCase: check the raw answer.
    const raw = await call("POST", "/api/v1/admin/dimensions", { token: tokens.mod, json: { keys: ["languages", "space_usage", "software_versions"], start_at: today, end_at: today } });
    expectMatchesSchema(raw.json, arrayOf("AdminDimension"));
    const byKey = Object.fromEntries(dims.map((d) => [d.key, d.data]));
    expect(Object.keys(byKey)).toEqual(["languages", "sources", "servers", "space_usage", "software_versions", "tag_servers", "tag_languages", "instance_accounts"]);
    const languages = Object.fromEntries(byKey.languages!.map((d) => [d.key, d]));
    expect(Number(languages.nl!.value)).toBeGreaterThanOrEqual(2);
    expect(languages.nl!.humanKey).toBe("Dutch");
    expect(byKey.space_usage!.map((d) => d.key)).toEqual(["postgresql", "redis", "media"]);
    expect(Number(byKey.space_usage![0]!.value)).toBeGreaterThan(0);
    expect(byKey.space_usage![0]!.unit).toBe("bytes");
    expect(byKey.space_usage![0]!.humanValue).toMatch(/\d (B|KB|MB|GB)$/);
    expect(byKey.software_versions!.find((d) => d.key === "postgresql")!.value).toMatch(/^\d+/);
    expect(byKey.tag_servers).toEqual([{ key: context.config.localDomain, humanKey: context.config.localDomain, value: "2" }]);
    expect(byKey.tag_languages).toEqual([{ key: "nl", humanKey: "Dutch", value: "2" }]);
    expect(byKey.instance_accounts).toEqual([]);
  });

  test("dimensions: bad input → 422", async () => {
    for (const json of [
      { keys: ["languages"], limit: -1 },
      { keys: ["languages"], limit: "many" },
      { keys: ["languages"], start_at: "yesterday" },
      { keys: ["languages"], start_at: "2026-02-01", end_at: "2026-01-01" },
      { keys: ["languages"], start_at: "2020-01-01", end_at: "2026-01-01" },
      { keys: Array.from({ length: 21 }, () => "languages") },
      { keys: { nested: true } },
    ]) {
      const res = await call("POST", "/api/v1/admin/dimensions", { token: tokens.mod, json });
      expect(res.status).toBe(422);
      expect(res.json).toEqual({ error: expect.any(String) });
    }
  });

  test("masto.js retention: day and month cohorts from sign-up day and last activity", async () => {
    // Three users who signed up on 2020-03-03 (a cohort no other test makes): one last active on the 5th,
    // one on the 4th through a token, one never again after signing up.
    const users = [];
    for (const name of ["ad_ret_a", "ad_ret_b", "ad_ret_c"]) users.push((await makeTestUser(context, name)).account);
    await context.sql`update users set created_at = '2020-03-03T10:00:00Z', last_sign_in_at = null where account_id in ${context.sql(users.map((u) => u.id))}`;
    await context.sql`update users set last_sign_in_at = '2020-03-05T08:00:00Z' where account_id = ${users[0]!.id}`;
    const userB = (await context.sql<{ id: string }[]>`select id from users where account_id = ${users[1]!.id}`)[0]!.id;
    await issueToken(context.sql, { userId: userB, applicationId: null, scopes: "read" });
    await context.sql`update oauth_access_tokens set last_used_at = '2020-03-04T23:00:00Z' where user_id = ${userB}`;

    const daily = await masto.v1.admin.retention.create({ startAt: "2020-03-03", endAt: "2020-03-06", frequency: "day" });
    expectMatchesSchema(daily, arrayOf("AdminCohort"));
    expect(daily.map((c) => c.period)).toEqual(["2020-03-03", "2020-03-04", "2020-03-05", "2020-03-06"].map((d) => `${d}T00:00:00+00:00`));
    const first = daily[0]!;
    expect(first.frequency).toBe("day");
    expect(first.data.map((d) => ({ value: String(d.value), rate: d.rate }))).toEqual([
      { value: "3", rate: 1 },
      { value: "2", rate: 2 / 3 },
      { value: "1", rate: 1 / 3 },
      { value: "0", rate: 0 },
    ]);
    expect(daily[1]!.data.map((d) => String(d.value))).toEqual(["0", "0", "0"]);
    // Mastodon sends counts as strings (masto.js types them as numbers).
    expect(typeof first.data[0]!.value).toBe("string");

    const monthly = await masto.v1.admin.retention.create({ startAt: "2020-03-01", endAt: "2020-04-30", frequency: "month" });
    expect(monthly.map((c) => c.period)).toEqual(["2020-03-01T00:00:00+00:00", "2020-04-01T00:00:00+00:00"]);
    expect(monthly[0]!.data.map((d) => ({ value: String(d.value), rate: d.rate }))).toEqual([
      { value: "3", rate: 1 },
      { value: "0", rate: 0 },
    ]);

    // Missing dates: an empty answer, as Mastodon; bad dates 422.
    expect((await call("POST", "/api/v1/admin/retention", { token: tokens.mod, json: { frequency: "day" } })).json).toEqual([]);
    expect((await call("POST", "/api/v1/admin/retention", { token: tokens.mod, json: { start_at: "soon", end_at: "2020-01-01" } })).status).toBe(422);
    expect((await call("POST", "/api/v1/admin/retention", { token: tokens.mod, json: { start_at: "2020-01-02", end_at: "2020-01-01" } })).status).toBe(422);
  });
});

describe("trends review", () => {
  const refresh = () => refreshTrendsJob.handler({}, { ...context, jobId: "test", attempt: 1 });
  const publicTagNames = async () => (await call("GET", "/api/v1/trends/tags?limit=20")).json.map((t: { name: string }) => t.name.toLowerCase());
  const publicStatusIds = async () => (await call("GET", "/api/v1/trends/statuses?limit=40")).json.map((s: { id: string }) => s.id);
  const publicLinkUrls = async () => (await call("GET", "/api/v1/trends/links?limit=20")).json.map((l: { url: string }) => l.url);

  beforeAll(async () => {
    const posters = [];
    for (const name of ["ad_tr_a", "ad_tr_b"]) {
      const made = await makeTestUser(context, name, { scopes: "read write" });
      expect((await call("PATCH", "/api/v1/accounts/update_credentials", { token: made.token, json: { discoverable: true } })).status).toBe(200);
      posters.push(made.token!);
    }
    for (const token of posters) {
      const url = "https://ad-news.example/story";
      const res = await call("POST", "/api/v1/statuses", { token, json: { status: `#AdTrendy read ${url}` } });
      expect(res.status).toBe(200);
      expect(await attachFederatedCard(context, res.json.id, { url, title: "Ad story" })).toBe(true);
      ids.trendingStatus = res.json.id;
    }
    expect((await call("POST", `/api/v1/statuses/${ids.trendingStatus}/favourite`, { token: posters[0] })).status).toBe(200);
    await refresh();
    ids.tag = (await context.sql<{ id: string }[]>`select id from tags where name = 'adtrendy'`)[0]!.id;
    ids.card = (await context.sql<{ id: string }[]>`select id from preview_cards where url = 'https://ad-news.example/story'`)[0]!.id;
  });

  test("tags: listed for moderators with requires_review; reject hides from public trends, approve brings back", async () => {
    const adminTags = async () => (await call("GET", "/api/v1/admin/trends/tags?limit=20", { token: tokens.mod })).json;
    const listed = await adminTags();
    expectMatchesSchema(listed, arrayOf("AdminTag"));
    const mine = listed.find((t: { id: string }) => t.id === ids.tag);
    expect(mine).toMatchObject({ name: "AdTrendy", trendable: true, usable: true, requires_review: true });
    expect(mine.history).toHaveLength(7);
    expect(await publicTagNames()).toContain("adtrendy");

    const rejected = await masto.v1.admin.trends.tags.$select(ids.tag).reject();
    expect(rejected).toMatchObject({ id: ids.tag, trendable: false, requiresReview: false });
    expect(await publicTagNames()).not.toContain("adtrendy");
    // Still listed for moderators (they may change their mind), and the refresh keeps the decision.
    await refresh();
    expect((await adminTags()).find((t: { id: string }) => t.id === ids.tag)?.trendable).toBe(false);
    expect(await publicTagNames()).not.toContain("adtrendy");

    expect((await masto.v1.admin.trends.tags.$select(ids.tag).approve()).trendable).toBe(true);
    expect(await publicTagNames()).toContain("adtrendy");
  });

  test("search with exclude_unreviewed=true finds only reviewed tags", async () => {
    const searcher = await makeTestUser(context, "ad_searcher", { scopes: "read" });
    // #AdUnreviewed exists but nobody reviewed it; #AdTrendy was reviewed above.
    await context.sql`insert into tags (name, display_name) values ('adunreviewed', 'AdUnreviewed') on conflict do nothing`;
    const search = async (q: string, exclude: boolean) =>
      (await call("GET", `/api/v2/search?type=hashtags&q=${q}&exclude_unreviewed=${exclude}`, { token: searcher.token })).json.hashtags.map((t: { name: string }) => t.name.toLowerCase());
    expect(await search("adunrev", false)).toEqual(["adunreviewed"]);
    expect(await search("adunrev", true)).toEqual([]);
    expect(await search("adtrend", true)).toEqual(["adtrendy"]);
  });

  test("statuses and links: reject and approve; a rejected publisher hides its unreviewed links", async () => {
    const statuses = await call("GET", "/api/v1/admin/trends/statuses", { token: tokens.mod });
    const status = statuses.json.find((s: { id: string }) => s.id === ids.trendingStatus);
    expect(status).toMatchObject({ id: ids.trendingStatus, requires_review: true });
    expect(await publicStatusIds()).toContain(ids.trendingStatus);
    expect((await masto.v1.admin.trends.statuses.$select(ids.trendingStatus).reject()).id).toBe(ids.trendingStatus);
    expect(await publicStatusIds()).not.toContain(ids.trendingStatus);
    await masto.v1.admin.trends.statuses.$select(ids.trendingStatus).approve();
    expect(await publicStatusIds()).toContain(ids.trendingStatus);

    const links = await call("GET", "/api/v1/admin/trends/links", { token: tokens.mod });
    expectMatchesSchema(links.json, arrayOf("TrendsLink"));
    expect(links.json.find((l: { id: string }) => l.id === ids.card)).toMatchObject({ url: "https://ad-news.example/story", requires_review: true, trendable: true });
    expect(await publicLinkUrls()).toContain("https://ad-news.example/story");

    const publishers = await call("GET", "/api/v1/admin/trends/links/publishers", { token: tokens.mod });
    const publisher = publishers.json.find((p: { domain: string }) => p.domain === "ad-news.example");
    expect(publisher).toMatchObject({ trendable: true, requires_review: true, reviewed_at: null });
    const rejected = await call("POST", `/api/v1/admin/trends/links/publishers/${publisher.id}/reject`, { token: tokens.mod });
    expect(rejected.json).toMatchObject({ domain: "ad-news.example", trendable: false, requires_review: false });
    expect(await publicLinkUrls()).not.toContain("https://ad-news.example/story");
    // Approving the link itself wins over its publisher's rejection.
    const approved = await masto.v1.admin.trends.links.$select(ids.card).approve();
    expect(approved.url).toBe("https://ad-news.example/story");
    expect(await publicLinkUrls()).toContain("https://ad-news.example/story");
    await masto.v1.admin.trends.links.$select(ids.card).reject();
    expect(await publicLinkUrls()).not.toContain("https://ad-news.example/story");
  });

  test("unknown or malformed ids → 404", async () => {
    for (const kind of ["tags", "statuses", "links", "links/publishers"]) {
      for (const id of ["999999999", "abc", "99999999999999999999"]) {
        const res = await call("POST", `/api/v1/admin/trends/${kind}/${id}/approve`, { token: tokens.mod });
        expect(res.status).toBe(404);
        expect(res.json).toEqual({ error: expect.any(String) });
      }
    }
  });
});

describe("account actions", () => {
  test("warning presets prefix the strike's text; unknown preset 404, malformed 422; freeze refuses the account's tokens", async () => {
    const target = await makeTestUser(context, "ad_warned", { scopes: "read" });
    const [preset] = await context.sql<{ id: string }[]>`insert into account_warning_presets (title, text) values ('Spam', 'Please stop spamming.') returning id`;
    const act = (json: Record<string, unknown>) => call("POST", `/api/v1/admin/accounts/${target.account.id}/action`, { token: tokens.mod, json });
    expect((await act({ type: "none", warning_preset_id: preset!.id, text: "Third time.", send_email_notification: true })).status).toBe(200);
    expect((await act({ type: "none", warning_preset_id: "999999999" })).status).toBe(404);
    expect((await act({ type: "none", warning_preset_id: "spam" })).status).toBe(422);
    expect((await act({ type: "warn" })).status).toBe(422);
    expect((await act({ type: "none", text: "x".repeat(5001) })).status).toBe(422);
    const strikes = await context.sql<{ action: string; text: string }[]>`select action, text from account_warnings where account_id = ${target.account.id}`;
    expect([...strikes]).toEqual([{ action: "none", text: "Please stop spamming.\n\nThird time." }]);

    expect((await call("GET", "/api/v1/accounts/verify_credentials", { token: target.token })).status).toBe(200);
    expect((await act({ type: "disable", text: "frozen" })).status).toBe(200);
    const frozen = await call("GET", "/api/v1/accounts/verify_credentials", { token: target.token });
    expect(frozen.status).toBe(403);
    expect(frozen.json.error).toContain("disabled");
    expect((await call("POST", `/api/v1/admin/accounts/${target.account.id}/enable`, { token: tokens.mod })).status).toBe(200);
    expect((await call("GET", "/api/v1/accounts/verify_credentials", { token: target.token })).status).toBe(200);
  });

  test("a warning resolves only the report it names; any other action resolves every open report; the strike keeps the report's posts", async () => {
    const reporter = await makeTestUser(context, "ad_rep_reporter");
    const target = await makeTestUser(context, "ad_rep_target", { scopes: "read write" });
    const posted = await call("POST", "/api/v1/statuses", { token: target.token, json: { status: "ad reported post" } });
    const file = (statusIds: string[]) => createReport(context, reporter.account, { accountId: target.account.id, statusIds, comment: "ad", forward: false, ruleIds: [] });
    const [first, second, third] = [await file([posted.json.id]), await file([]), await file([])];
    const resolved = async () =>
      (await context.sql<{ id: string }[]>`select id from reports where target_account_id = ${target.account.id} and action_taken_at is not null order by id`).map((r) => r.id);
    const act = (json: Record<string, unknown>) => call("POST", `/api/v1/admin/accounts/${target.account.id}/action`, { token: tokens.mod, json });

    expect((await act({ type: "none", report_id: first.id, text: "ad warning" })).status).toBe(200);
    expect(await resolved()).toEqual([first.id]);
    const [strike] = await context.sql<{ status_ids: string[] }[]>`select status_ids::text[] from account_warnings where report_id = ${first.id}`;
    expect(strike!.status_ids).toEqual([posted.json.id]);
    // A report of someone else cannot be named.
    expect((await call("POST", `/api/v1/admin/accounts/${reporter.account.id}/action`, { token: tokens.mod, json: { type: "none", report_id: second.id } })).status).toBe(404);

    expect((await act({ type: "sensitive" })).status).toBe(200);
    expect(await resolved()).toEqual([first.id, second.id, third.id].sort());
  });
});

describe("admin web UI: moderation notes, strikes and actions", () => {
  async function signedIn(username: string): Promise<{ browser: Browser; token: (path: string) => Promise<string> }> {
    const browser = new Browser(base, { email: `${username}@example.com`, password: TEST_PASSWORD });
    const form = await (await browser.request("/auth/sign_in")).text();
    expect((await browser.post("/auth/sign_in", { ...hiddenFields(form), email: `${username}@example.com`, password: TEST_PASSWORD })).status).toBe(303);
    return { browser, token: async (path) => hiddenFields(await (await browser.request(path)).text()).authenticity_token! };
  }

  test("account page: add and delete notes (author or admin only), the action form records a strike", async () => {
    const target = await makeTestUser(context, "ad_ui_target");
    const path = `/admin/accounts/${target.account.id}`;
    const { browser, token } = await signedIn("ad_mod");
    const page = await (await browser.request(path)).text();
    expect(page).toContain("@ad_ui_target");
    expect(page).toContain(`action="${path}/moderate"`);
    expect(page).toContain("Freeze");

    expect((await browser.post(`${path}/notes`, { authenticity_token: await token(path), content: "  Ad <b>watch</b> this one  " })).status).toBe(303);
    const withNote = await (await browser.request(path)).text();
    expect(withNote).toContain("Ad &lt;b&gt;watch&lt;/b&gt; this one");
    expect(withNote).toContain("@ad_mod");
    const [note] = await context.sql<{ id: string }[]>`select id from account_moderation_notes where target_account_id = ${target.account.id}`;

    // Bad input: empty or too long → 422, no CSRF → 403, nothing written.
    expect((await browser.post(`${path}/notes`, { authenticity_token: await token(path), content: "   " })).status).toBe(422);
    expect((await browser.post(`${path}/notes`, { authenticity_token: await token(path), content: "x".repeat(2001) })).status).toBe(422);
    expect((await browser.post(`${path}/notes`, { content: "no csrf" })).status).toBe(403);
    expect((await context.sql`select 1 from account_moderation_notes where target_account_id = ${target.account.id}`).length).toBe(1);

    // Another moderator may not delete it; an admin may.
    const other = await signedIn("ad_mod2");
    expect((await other.browser.post(`${path}/notes/${note!.id}/delete`, { authenticity_token: await other.token(path) })).status).toBe(403);
    const adminSession = await signedIn("ad_admin");
    expect((await adminSession.browser.post(`${path}/notes/${note!.id}/delete`, { authenticity_token: await adminSession.token(path) })).status).toBe(303);
    expect((await context.sql`select 1 from account_moderation_notes where id = ${note!.id}`).length).toBe(0);

    // The action form: limit with a text → the account is limited and the strike is listed.
    expect((await browser.post(`${path}/moderate`, { authenticity_token: await token(path), type: "silence", text: "Ad: too loud" })).status).toBe(303);
    expect((await context.sql`select silenced_at from accounts where id = ${target.account.id}`)[0]!.silenced_at).not.toBeNull();
    const afterAction = await (await browser.request(path)).text();
    expect(afterAction).toContain("Ad: too loud");
    expect(afterAction).toContain("limited");
    expect((await browser.post(`${path}/moderate`, { authenticity_token: await token(path), type: "obliterate", text: "" })).status).toBe(422);
    expect((await browser.post(`/admin/accounts/${ids.admin}/moderate`, { authenticity_token: await token(path), type: "suspend", text: "" })).status).toBe(403);
    expect((await browser.post("/admin/accounts/999999999/moderate", { authenticity_token: await token(path), type: "none", text: "" })).status).toBe(404);
    expect((await (await signedIn("ad_user")).browser.request(path)).status).toBe(403);
  });

  test("report page: notes, and deleting the reported posts resolves the report with a strike", async () => {
    const reporter = await makeTestUser(context, "ad_ui_reporter");
    const poster = await makeTestUser(context, "ad_ui_poster", { scopes: "read write" });
    const posted = await call("POST", "/api/v1/statuses", { token: poster.token, json: { status: "ad offending post" } });
    const report = await createReport(context, reporter.account, { accountId: poster.account.id, statusIds: [posted.json.id], comment: "ad spam", forward: false, ruleIds: [] });
    const path = `/admin/reports/${report.id}`;
    const { browser, token } = await signedIn("ad_mod");
    const page = await (await browser.request(path)).text();
    expect(page).toContain("ad offending post");
    expect(page).toContain("Delete reported posts");

    expect((await browser.post(`${path}/notes`, { authenticity_token: await token(path), content: "Ad: looking into it" })).status).toBe(303);
    expect(await (await browser.request(path)).text()).toContain("Ad: looking into it");
    expect((await browser.post(`${path}/notes`, { authenticity_token: await token(path), content: "x".repeat(501) })).status).toBe(422);

    expect((await browser.post(`${path}/action`, { authenticity_token: await token(path), type: "delete_statuses", text: "Ad: removed" })).status).toBe(303);
    expect((await call("GET", `/api/v1/statuses/${posted.json.id}`, { token: poster.token })).status).toBe(404);
    const [row] = await context.sql<{ action_taken_at: Date | null }[]>`select action_taken_at from reports where id = ${report.id}`;
    expect(row!.action_taken_at).not.toBeNull();
    const [strike] = await context.sql<{ action: string; report_id: string; status_ids: string[]; text: string }[]>`
      select action, report_id::text, status_ids::text[], text from account_warnings where account_id = ${poster.account.id}`;
    expect(strike).toEqual({ action: "delete_statuses", report_id: report.id, status_ids: [posted.json.id], text: "Ad: removed" });
    expect((await browser.post("/admin/reports/999999999/action", { authenticity_token: await token(path), type: "none", text: "" })).status).toBe(404);
    expect((await browser.post(`${path}/action`, { authenticity_token: await token(path), type: "nuke", text: "" })).status).toBe(422);
    expect((await browser.request("/admin/reports/abc")).status).toBe(404);
  });
});

const executable = chromiumPath();
if (!executable) console.warn("\n*** admin-api-extras: NO CHROMIUM FOUND: the real-browser test is SKIPPED ***\n");

describe.skipIf(!executable)("admin web UI in headless Chromium", () => {
  test("a moderator adds a note and limits an account from its page, on a phone", async () => {
    const target = await makeTestUser(context, "ad_chrome_target");
    const chromium = await launchChromium(executable!);
    try {
      const browser = await chromium.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const page = await browser.newPage();
      await page.goto(`${base}/admin/accounts?q=ad_chrome`);
      await page.fill("#email", "ad_mod@example.com");
      await page.fill("#password", TEST_PASSWORD);
      await page.click("button[type=submit]:has-text('Sign in')");
      await page.waitForURL(/\/admin\/accounts/);
      await page.click("text=@ad_chrome_target");
      await page.waitForURL(`${base}/admin/accounts/${target.account.id}`);
      await page.fill("#note-content", "Ad chrome: keep an eye on this");
      await page.click("text=Add note");
      await page.waitForURL(`${base}/admin/accounts/${target.account.id}`);
      expect(await page.textContent("ul.notes")).toContain("Ad chrome: keep an eye on this");
      await page.check("input[name=type][value=silence]");
      await page.fill("#action-text", "Ad chrome: limited");
      await page.click("text=Apply");
      await page.waitForURL(`${base}/admin/accounts/${target.account.id}`);
      expect(await page.textContent("main")).toContain("Ad chrome: limited");
      expect((await context.sql`select silenced_at from accounts where id = ${target.account.id}`)[0]!.silenced_at).not.toBeNull();
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/account-moderation-phone.png`, fullPage: true });
      await browser.close();
    } finally {
      await chromium.close();
    }
  }, 60_000);
});
