/**
 * The routes the endpoint-coverage audit found missing, driven through masto.js like a client would: instance
 * extras (translation languages, languages, public domain blocks honouring show_domain_blocks, privacy
 * policy, terms of service, peer search), translate (503: no translator), identity proofs, annual reports,
 * tag feature / unfeature, quotes, v2 notifications clear and destroy_multiple, /api/v1/profile, and
 * e-mail confirmation resends. Entities are checked against the Mastodon OpenAPI schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient, MastoHttpError, type mastodon } from "masto";
import { buildWebApp } from "../../src/api/app";
import { putDomainBlock } from "../../src/features/federation/store";
import { notify } from "../../src/features/notifications/service";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let web: ReturnType<typeof buildWebApp>;
let base: string;
const call = inProcessApi(() => web);
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
let alice: mastodon.rest.Client;
let anonymous: mastodon.rest.Client;

/** The HTTP status a masto.js call failed with (or "ok" when it did not fail). */
async function statusOf(promise: PromiseLike<unknown>): Promise<number | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof MastoHttpError) return error.statusCode;
    throw error;
  }
}

beforeAll(async () => {
  context = await testContext();
  web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${web.server!.port}`;
  for (const name of ["alice", "bob"]) {
    const { account, token } = await makeTestUser(context, `ep_x_${name}`, { scopes: "read write follow push profile" });
    tokens[name] = token!;
    ids[name] = account.id;
  }
  alice = createRestAPIClient({ url: base, accessToken: tokens.alice });
  anonymous = createRestAPIClient({ url: base });
});

afterAll(async () => {
  for (const key of ["show_domain_blocks", "privacy_policy"]) await resetSetting(context.sql, key);
  await web.stop(true);
  await context.close();
});

describe("instance extras", () => {
  test("no translator: translation_languages is empty", async () => {
    expect(await alice.v1.instance.translationLanguages.list()).toEqual({});
  });

  test("languages: ISO 639-1 codes with English names", async () => {
    const languages = (await call("GET", "/api/v1/instance/languages")).json as { code: string; name: string }[];
    expect(languages).toContainEqual({ code: "en", name: "English" });
    expect(languages).toContainEqual({ code: "de", name: "German" });
    expect(languages.every((l) => /^[a-z]{2}$/.test(l.code) && l.name.length > 0)).toBe(true);
  });

  test("domain_blocks honours show_domain_blocks; obfuscated domains keep a digest of the real name", async () => {
    await putDomainBlock(context.sql, { domain: "ep-spam.example", severity: "suspend", reject_media: false, reject_reports: false, private_comment: "secret", public_comment: "spam", obfuscate: false });
    await putDomainBlock(context.sql, { domain: "ep-hidden-name.example", severity: "silence", reject_media: false, reject_reports: false, private_comment: null, public_comment: null, obfuscate: true });
    await putDomainBlock(context.sql, { domain: "ep-noop.example", severity: "noop", reject_media: true, reject_reports: false, private_comment: null, public_comment: null, obfuscate: false });

    // Default (as Mastodon): nobody sees the list.
    expect(await statusOf(alice.v1.instance.domainBlocks.fetch())).toBe(404);

    await setSetting(context.sql, "show_domain_blocks", "users");
    expect(await statusOf(anonymous.v1.instance.domainBlocks.fetch())).toBe(404);
    const raw = (await call("GET", "/api/v1/instance/domain_blocks", { token: tokens.alice })).json;
    expectMatchesSchema(raw, arrayOf("DomainBlock"));
    const mine = (raw as { domain: string; digest: string; severity: string; comment: string }[]).filter((b) => b.domain.startsWith("ep-"));
    const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
    expect(mine).toContainEqual({ domain: "ep-spam.example", digest: digest("ep-spam.example"), severity: "suspend", comment: "spam" });
    const hidden = mine.find((b) => b.digest === digest("ep-hidden-name.example"))!;
    expect(hidden.domain).not.toBe("ep-hidden-name.example");
    expect(hidden.domain).toBe("ep-hid********.**ample");
    expect(hidden.severity).toBe("silence");
    // A "noop" block moderates nothing visible; the private comment never leaks.
    expect(mine.some((b) => b.domain === "ep-noop.example")).toBe(false);
    expect(JSON.stringify(raw)).not.toContain("secret");

    await setSetting(context.sql, "show_domain_blocks", "all");
    const public_ = await anonymous.v1.instance.domainBlocks.fetch();
    expect(public_.some((b) => b.domain === "ep-spam.example")).toBe(true);
  });

  test("privacy policy: a default until set, then the operator's text, sanitised", async () => {
    const before = (await call("GET", "/api/v1/instance/privacy_policy")).json;
    expectMatchesSchema(before, "PrivacyPolicy");
    expect(before.content).toContain("<p>");
    await setSetting(context.sql, "privacy_policy", "<p>Ep policy</p><script>alert(1)</script>");
    const after = (await call("GET", "/api/v1/instance/privacy_policy")).json;
    expectMatchesSchema(after, "PrivacyPolicy");
    expect(after.content).toContain("<p>Ep policy</p>");
    expect(after.content).not.toContain("script");
  });

  test("no terms of service are published: 404 as Mastodon", async () => {
    for (const path of ["/api/v1/instance/terms_of_service", "/api/v1/instance/terms_of_service/2025-01-01"]) {
      expect((await call("GET", path)).json).toEqual({ error: "Record not found" });
    }
  });

  test("peer search: known domains by prefix, nothing for a blank query", async () => {
    await context.sql`insert into accounts (username, domain, uri, url)
      values ('ep_peer', 'ep-peer.example', 'https://ep-peer.example/users/ep_peer', 'https://ep-peer.example/@ep_peer')
      on conflict do nothing`;
    expect((await call("GET", "/api/v1/peers/search?q=EP-PEER")).json).toEqual(["ep-peer.example"]);
    expect((await call("GET", "/api/v1/peers/search?q=")).json).toEqual([]);
    expect((await call("GET", `/api/v1/peers/search?q=${"a".repeat(300)}`)).status).toBe(422);
  });
});

describe("statuses and accounts", () => {
  test("translate: 503 for a visible status, 404 for one the caller may not see", async () => {
    const mine = await alice.v1.statuses.create({ status: "bonjour" });
    expect(await statusOf(alice.v1.statuses.$select(mine.id).translate({ lang: "en" }))).toBe(503);
    const bob = createRestAPIClient({ url: base, accessToken: tokens.bob });
    const secret = await bob.v1.statuses.create({ status: "only for me", visibility: "direct" });
    expect(await statusOf(alice.v1.statuses.$select(secret.id).translate({ lang: "en" }))).toBe(404);
  });

  test("quotes: the author sees an empty list, others a 404", async () => {
    const mine = await alice.v1.statuses.create({ status: "quote me" });
    expect(await alice.v1.statuses.$select(mine.id).quotes.list()).toEqual([]);
    const bob = createRestAPIClient({ url: base, accessToken: tokens.bob });
    expect(await statusOf(bob.v1.statuses.$select(mine.id).quotes.list())).toBe(404);
    expect((await call("POST", `/api/v1/statuses/${mine.id}/quotes/1/revoke`, { token: tokens.alice })).status).toBe(404);
  });

  test("identity proofs: an empty list for a real account, 404 for an unknown one", async () => {
    expect(await alice.v1.accounts.$select(ids.bob!).identityProofs.list()).toEqual([]);
    expect(await statusOf(alice.v1.accounts.$select("9000000000000000001").identityProofs.list())).toBe(404);
  });

  test("annual reports: none, ineligible, and a bad year is refused", async () => {
    expect(await alice.v1.annualReports.list()).toEqual({ annualReports: [], accounts: [], statuses: [] });
    expect(await alice.v1.annualReports.$select("2025").state.fetch()).toEqual({ state: "ineligible" });
    expect(await statusOf(alice.v1.annualReports.$select("2025").read())).toBe(404);
    expect((await call("GET", "/api/v1/annual_reports/20x5/state", { token: tokens.alice })).status).toBe(422);
  });

  test("tags feature / unfeature by name: idempotent, shown in featured_tags", async () => {
    const featured = await alice.v1.tags.$select("EpFeatured").feature();
    expect(featured.featuring).toBe(true);
    const raw = (await call("POST", "/api/v1/tags/EpFeatured/feature", { token: tokens.alice })).json;
    expectMatchesSchema(raw, "Tag");
    expect(raw.featuring).toBe(true);
    const names = async () => (await alice.v1.featuredTags.list()).map((t) => t.name.toLowerCase());
    expect((await names()).filter((n) => n === "epfeatured")).toHaveLength(1);
    const unfeatured = await alice.v1.tags.$select("epfeatured").unfeature();
    expect(unfeatured.featuring).toBe(false);
    expect(await names()).not.toContain("epfeatured");
    expect(await statusOf(alice.v1.tags.$select("EpNeverSeen").unfeature())).toBe(404);
  });
});

describe("notifications", () => {
  async function notifyAlice(): Promise<string> {
    const status = await alice.v1.statuses.create({ status: "like me" });
    const id = await notify(context, { recipientId: ids.alice!, fromAccountId: ids.bob!, type: "favourite", statusId: status.id });
    expect(id).toBeDefined();
    return id!;
  }
  const listIds = async () => ((await call("GET", "/api/v1/notifications", { token: tokens.alice })).json as { id: string }[]).map((n) => n.id);

  test("destroy_multiple dismisses only the named ones, ignoring bad ids", async () => {
    const first = await notifyAlice();
    const second = await notifyAlice();
    const response = await call("DELETE", `/api/v1/notifications/destroy_multiple?ids[]=${first}&ids[]=x&ids[]=99999999999999999999`, { token: tokens.alice });
    expect([response.status, response.json]).toEqual([200, {}]);
    const left = await listIds();
    expect(left).not.toContain(first);
    expect(left).toContain(second);
  });

  test("v2 clear empties them", async () => {
    await notifyAlice();
    expect((await call("POST", "/api/v2/notifications/clear", { token: tokens.alice })).json).toEqual({});
    expect(await listIds()).toEqual([]);
  });
});

describe("/api/v1/profile", () => {
  test("fetch and update with raw text; nothing written when refused", async () => {
    const profile = await alice.v1.profile.fetch();
    const raw = (await call("GET", "/api/v1/profile", { token: tokens.alice })).json;
    expectMatchesSchema(raw, "Profile");
    expect(raw.avatar).toBeNull();
    expect(profile.id).toBe(ids.alice!);

    const updated = await alice.v1.profile.update({ displayName: "Ep Alice", note: "hello #world", fieldsAttributes: [{ name: "site", value: "https://example.com" }] });
    expect(updated.displayName).toBe("Ep Alice");
    // Raw text, not the rendered HTML an Account carries.
    expect(updated.note).toBe("hello #world");
    expect(updated.fields).toEqual([{ name: "site", value: "https://example.com", verifiedAt: null }] as never);
    const account = await alice.v1.accounts.verifyCredentials();
    expect(account.displayName).toBe("Ep Alice");

    const refused = await call("PATCH", "/api/v1/profile", { token: tokens.alice, json: { display_name: "x".repeat(40), note: "changed" } });
    expect(refused.status).toBe(422);
    expect((await alice.v1.profile.fetch()).note).toBe("hello #world");
  });
});

describe("e-mail confirmation", () => {
  test("an unconfirmed API sign-up can ask for a new link and check; confirmed users are refused", async () => {
    const { account, token } = await makeTestUser(context, "ep_x_pending", { confirmed: false, scopes: "read write" });
    const pending = createRestAPIClient({ url: base, accessToken: token! });
    const before = (await context.sql<{ confirmation_token: string }[]>`select confirmation_token from users where id = ${account.user.id}`)[0]!;
    await pending.v1.emails.confirmations.create();
    const after = (await context.sql<{ confirmation_token: string }[]>`select confirmation_token from users where id = ${account.user.id}`)[0]!;
    // A fresh link: the stored token hash changed (and the old link stops working).
    expect(after.confirmation_token).not.toBe(before.confirmation_token);
    expect((await call("GET", "/api/v1/emails/check_confirmation", { token: token! })).json).toBe(false);
    expect((await call("POST", "/api/v1/emails/confirmations", { token: token!, json: { email: "other@example.com" } })).status).toBe(422);

    expect(await statusOf(alice.v1.emails.confirmations.create())).toBe(403);
    expect((await call("GET", "/api/v1/emails/check_confirmation", { token: tokens.alice })).json).toBe(true);
  });
});

describe("domain block preview and donation campaigns", () => {
  test("the preview counts follows both ways with that domain; campaigns answer 204", async () => {
    const domain = `preview-${Date.now().toString(36)}.example`;
    const remote = await context.sql<{ id: string }[]>`
      insert into accounts (username, domain, uri, public_key, display_name, note)
      select 'ep_remote_' || n, ${domain}, 'https://' || ${domain} || '/users/' || n, '', '', ''
      from generate_series(1, 3) n returning id`;
    await context.sql`insert into follows (account_id, target_account_id) values (${ids.alice!}, ${remote[0]!.id}), (${ids.alice!}, ${remote[1]!.id})`;
    await context.sql`insert into follows (account_id, target_account_id) values (${remote[2]!.id}, ${ids.alice!})`;
    const preview = await call("GET", `/api/v1/domain_blocks/preview?domain=${domain.toUpperCase()}`, { token: tokens.alice });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({ following_count: 2, followers_count: 1 });
    expect((await call("GET", "/api/v1/domain_blocks/preview", { token: tokens.alice })).status).toBe(400);
    expect((await call("GET", `/api/v1/domain_blocks/preview?domain=${domain}`)).status).toBe(401);
    const campaigns = await call("GET", "/api/v1/donation_campaigns?locale=en", { token: tokens.alice });
    expect(campaigns.status).toBe(204);
  });
});
