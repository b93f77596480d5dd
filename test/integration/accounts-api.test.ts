/**
 * Accounts and the door, through the real web app: sign-up, the signed-in account, reading accounts and the
 * instance endpoints. Every JSON answer is held to Mastodon's OpenAPI schema; hostile input must give a
 * Mastodon-shaped 4xx and write nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { loadSharp } from "../../src/infra/sharp";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken, revokeToken } from "../../src/features/auth/tokens";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { inProcessApi, type CallOptions } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let appId: string;
let appToken: string;
let apialice: LocalAccountRow;
const tokens: Record<string, string> = {};

const call = inProcessApi(() => app);

async function makeUser(username: string, options: { confirmed?: boolean; role?: "User" | "Owner" } = {}) {
  return (await makeTestUser(context, username, options)).account;
}

const userToken = async (account: LocalAccountRow, scopes: string) =>
  (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes, description: "test" })).token;

async function rowCounts() {
  const [row] = await context.sql`
    select (select count(*) from accounts)::int as accounts, (select count(*) from users)::int as users,
           (select count(*) from oauth_access_tokens)::int as tokens`;
  return row;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  const [application] = await context.sql<{ id: string }[]>`
    insert into oauth_applications (name, client_id, client_secret, redirect_uris, scopes)
    values ('Test client', 'client-accounts-api', 'secret', array['urn:ietf:wg:oauth:2.0:oob'], 'read write follow')
    returning id`;
  appId = application!.id;
  appToken = (await issueToken(context.sql, { userId: null, applicationId: appId, scopes: "read write follow" })).token;
  apialice = await makeUser("apialice");
  tokens.apialice = await userToken(apialice, "read write");
  tokens.aliceRead = await userToken(apialice, "read");
  tokens.aliceProfile = await userToken(apialice, "profile");
});
// The database is shared by every test file of a run: leave the settings as we found them.
const TOUCHED_SETTINGS = ["registrations_mode", "site_title", "site_short_description", "site_contact_email", "site_contact_username", "site_extended_description"];
afterAll(async () => {
  for (const key of TOUCHED_SETTINGS) await resetSetting(context.sql, key);
  await context.close();
});

// ---------------------------------------------------------------------------------------------------------

describe("POST /api/v1/accounts (sign-up)", () => {
  const signUp = (body: Record<string, unknown>, token = appToken) => call("POST", "/api/v1/accounts", { token, json: body });
  const valid = (username: string) => ({ username, email: `${username}@example.org`, password: "long enough secret", agreement: true, locale: "en" });

  test("closed registrations: 403, nothing written", async () => {
    await setSetting(context.sql, "registrations_mode", "none");
    const before = await rowCounts();
    const response = await signUp(valid("apiclosed"));
    expect(response.status).toBe(403);
    expectMatchesSchema(response.json, "Error");
    expect(await rowCounts()).toEqual(before);
  });

  test("open: a Token for the signing-up app, an unconfirmed account and a queued confirmation mail", async () => {
    await setSetting(context.sql, "registrations_mode", "open");
    const response = await signUp(valid("apinewbie"));
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "Token");
    expect(response.json).toMatchObject({ token_type: "Bearer", scope: "read write follow" });
    expect(Math.abs(response.json.created_at - Date.now() / 1000)).toBeLessThan(60);

    const [user] = await context.sql`
      select u.confirmed_at, u.approved, u.sign_up_ip, t.application_id, t.scopes
      from users u join accounts a on a.id = u.account_id join oauth_access_tokens t on t.user_id = u.id
      where a.username = 'apinewbie'`;
    expect(user).toMatchObject({ confirmed_at: null, approved: true, application_id: appId, scopes: "read write follow" });

    const jobs = await context.queues.queue("mailers").getJobs(["wait", "waiting", "delayed", "prioritized"]);
    const mail = jobs.find((job) => job.name === "mail.send" && job.data.to === "apinewbie@example.org");
    expect(mail?.data).toMatchObject({ template: "confirmation", username: "apinewbie" });
    expect(mail?.data.link).toContain("confirmation_token=");

    // The token works, but an unconfirmed user may not use user endpoints yet.
    const me = await call("GET", "/api/v1/accounts/verify_credentials", { token: response.json.access_token });
    expect(me).toMatchObject({ status: 403, json: { error: "Your login is missing a confirmed e-mail address" } });
    // …and the account is invisible to others until confirmed.
    expect((await call("GET", "/api/v1/accounts/lookup?acct=apinewbie")).status).toBe(404);
  });

  test("form-encoded sign-up with agreement=1", async () => {
    const form = { username: "apiformed", email: "apiformed@example.org", password: "long enough secret", agreement: "1", locale: "en" };
    const response = await call("POST", "/api/v1/accounts", { token: appToken, form });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "Token");
  });

  const failures: [string, Record<string, unknown>, string, string][] = [
    ["a bad username", { ...valid("x"), username: "bad name!" }, "username", "ERR_INVALID"],
    ["a reserved username", { ...valid("x"), username: "admin" }, "username", "ERR_RESERVED"],
    ["a username taken in another case", { ...valid("x"), username: "APINEWBIE", email: "other@example.org" }, "username", "ERR_TAKEN"],
    ["an email taken in another case", { ...valid("fresh"), email: "APINEWBIE@example.org" }, "email", "ERR_TAKEN"],
    ["a bad email", { ...valid("fresh"), email: "not-an-email" }, "email", "ERR_INVALID"],
    ["a short password", { ...valid("fresh"), password: "short" }, "password", "ERR_TOO_SHORT"],
    ["no agreement", { ...valid("fresh"), agreement: false }, "agreement", "ERR_ACCEPTED"],
    ["agreement given as an array", { ...valid("fresh"), agreement: ["true"] }, "agreement", "ERR_ACCEPTED"],
    ["a missing username", { email: "fresh@example.org", password: "long enough secret", agreement: true }, "username", "ERR_BLANK"],
  ];
  for (const [what, body, field, code] of failures) {
    test(`422 for ${what}, with Mastodon's details and nothing half-created`, async () => {
      const before = await rowCounts();
      const response = await signUp(body);
      expect(response.status).toBe(422);
      expectMatchesSchema(response.json, "ValidationError");
      expect(response.json.error).toStartWith("Validation failed: ");
      expect(response.json.details[field].map((d: { error: string }) => d.error)).toContain(code);
      expect(await rowCounts()).toEqual(before);
    });
  }

  test("wrong types are a 4xx, never a 500", async () => {
    for (const body of [{ username: { a: 1 } }, { username: ["x"] }, { ...valid("typed"), locale: "../../etc" }, { ...valid("typed"), reason: "r".repeat(421) }]) {
      const response = await signUp(body);
      expect(response.status).toBe(422);
      expect(typeof response.json.error).toBe("string");
    }
    expect((await call("POST", "/api/v1/accounts", { token: appToken, json: "[1]" })).status).toBe(400);
  });

  test("needs a token with write:accounts", async () => {
    expect((await signUp(valid("notoken"), "")).status).toBe(401);
    const readOnly = (await issueToken(context.sql, { userId: null, applicationId: appId, scopes: "read" })).token;
    expect(await signUp(valid("readonly"), readOnly)).toMatchObject({ status: 403, json: { error: "This action is outside the authorized scopes" } });
  });

  test("approval mode: the account waits for a moderator and the reason is kept", async () => {
    await setSetting(context.sql, "registrations_mode", "approved");
    try {
      const response = await signUp({ ...valid("apiwaiting"), reason: "I knit" });
      expect(response.status).toBe(200);
      const [user] = await context.sql`select approved, sign_up_reason from users where lower(email) = 'apiwaiting@example.org'`;
      expect(user).toEqual({ approved: false, sign_up_reason: "I knit" });
    } finally {
      await setSetting(context.sql, "registrations_mode", "open");
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("GET /api/v1/accounts/verify_credentials", () => {
  test("a CredentialAccount with source and role", async () => {
    const response = await call("GET", "/api/v1/accounts/verify_credentials", { token: tokens.apialice });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "CredentialAccount");
    const me = response.json;
    expect(me).toMatchObject({ id: apialice.id, username: "apialice", acct: "apialice", url: "http://woolly.test/@apialice", uri: "http://woolly.test/users/apialice" });
    expect(me.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);
    expect(me.avatar).toBe("http://woolly.test/avatars/original/missing.png");
    expect(me.header).toBe("http://woolly.test/headers/original/missing.png");
    expect(me.source).toMatchObject({ privacy: "public", sensitive: false, language: null, note: "", fields: [], follow_requests_count: 0 });
    expect(me.role).toEqual({ id: "-99", name: "", color: "", permissions: "65536", highlighted: false });
    expect(me.roles).toEqual([]);
  });

  test("the profile scope is enough", async () => {
    expect((await call("GET", "/api/v1/accounts/verify_credentials", { token: tokens.aliceProfile })).status).toBe(200);
  });

  test("no, invalid, revoked and app-only tokens", async () => {
    expect(await call("GET", "/api/v1/accounts/verify_credentials")).toMatchObject({ status: 401, json: { error: "This method requires an authenticated user" } });
    expect(await call("GET", "/api/v1/accounts/verify_credentials", { token: "garbage" })).toMatchObject({ status: 401, json: { error: "The access token is invalid" } });
    const revoked = await userToken(apialice, "read");
    await revokeToken(context.sql, revoked);
    expect(await call("GET", "/api/v1/accounts/verify_credentials", { token: revoked })).toMatchObject({ status: 401, json: { error: "The access token is invalid" } });
    expect((await call("GET", "/api/v1/accounts/verify_credentials", { token: appToken })).status).toBe(422);
  });

  test("an Owner gets the full permission mask and a public role badge", async () => {
    const owner = await makeUser("apiboss", { role: "Owner" });
    const response = await call("GET", "/api/v1/accounts/verify_credentials", { token: await userToken(owner, "read") });
    expectMatchesSchema(response.json, "CredentialAccount");
    expect(response.json.role).toMatchObject({ id: "3", name: "Owner", highlighted: true, permissions: String(2 ** 22 - 1) });
    expect(response.json.roles).toEqual([{ id: "3", name: "Owner", color: "" }]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("PATCH /api/v1/accounts/update_credentials", () => {
  let apicarol: LocalAccountRow;
  let token: string;
  beforeAll(async () => {
    apicarol = await makeUser("apicarol");
    token = await userToken(apicarol, "read write");
  });
  const patch = (options: CallOptions) => call("PATCH", "/api/v1/accounts/update_credentials", { token, ...options });
  const current = async () => (await call("GET", "/api/v1/accounts/verify_credentials", { token })).json;

  test("form-encoded, as Mastodon's web app and many clients send it", async () => {
    const response = await patch({
      form: {
        display_name: "Carol <3",
        note: "Knits.\n\nSee https://example.com/patterns",
        locked: "true",
        bot: "1",
        "fields_attributes[0][name]": "Site",
        "fields_attributes[0][value]": "https://apicarol.example",
        "fields_attributes[1][name]": "",
        "fields_attributes[1][value]": "dropped: no name",
        "source[privacy]": "private",
        "source[sensitive]": "true",
        "source[language]": "DE",
      },
    });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "CredentialAccount");
    const me = response.json;
    expect(me).toMatchObject({ display_name: "Carol <3", locked: true, bot: true });
    expect(me.note).toStartWith("<p>Knits.</p><p>See <a href=\"https://example.com/patterns\"");
    expect(me.fields).toHaveLength(1);
    expect(me.fields[0]).toMatchObject({ name: "Site", verified_at: null });
    expect(me.fields[0].value).toContain('rel="nofollow noopener me"');
    expect(me.source).toMatchObject({
      note: "Knits.\n\nSee https://example.com/patterns",
      privacy: "private",
      sensitive: true,
      language: "de",
      fields: [{ name: "Site", value: "https://apicarol.example", verified_at: null }],
    });
  });

  test("JSON, fields as an array; false booleans; language cleared", async () => {
    const response = await patch({
      json: { locked: false, bot: "0", discoverable: true, indexable: "true", hide_collections: true, fields_attributes: [{ name: "A", value: "1" }, { name: "B", value: "2" }], source: { language: null } },
    });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "CredentialAccount");
    expect(response.json).toMatchObject({ locked: false, bot: false, discoverable: true, indexable: true, hide_collections: true });
    expect(response.json.source.language).toBeNull();
    expect(response.json.fields.map((f: { name: string }) => f.name)).toEqual(["A", "B"]);
  });

  test('JSON, fields keyed by position ({"0": …})', async () => {
    const response = await patch({ json: { fields_attributes: { "1": { name: "second", value: "y" }, "0": { name: "first", value: "x" } } } });
    expect(response.status).toBe(200);
    expect(response.json.source.fields.map((f: { name: string }) => f.name)).toEqual(["first", "second"]);
  });

  test("multipart: text fields and an avatar together; a broken image refuses the whole request", async () => {
    const sharp = await loadSharp();
    const form = new FormData();
    form.append("display_name", "Multipart Carol");
    form.append("source[privacy]", "unlisted");
    form.append("avatar", new File([await sharp({ create: { width: 10, height: 10, channels: 3, background: "#888" } }).png().toBuffer()], "a.png", { type: "image/png" }));
    const response = await patch({ multipart: form });
    expect(response.status).toBe(200);
    expect(response.json.display_name).toBe("Multipart Carol");
    expect(response.json.source.privacy).toBe("unlisted");
    expect(response.json.avatar).toContain("/system/accounts/avatars/");

    const broken = new FormData();
    broken.append("display_name", "Should Not Stick");
    broken.append("avatar", new File([new Uint8Array([137, 80, 78, 71])], "a.png", { type: "image/png" }));
    expect((await patch({ multipart: broken })).status).toBe(422);
    expect((await current()).display_name).toBe("Multipart Carol");
  });

  test("an empty body changes nothing", async () => {
    const before = await current();
    const response = await patch({ json: {} });
    expect(response.status).toBe(200);
    expect(response.json).toEqual(before);
  });

  const limits: [string, Record<string, unknown>, Record<string, unknown>, string][] = [
    ["display_name", { display_name: "d".repeat(30) }, { display_name: "d".repeat(31) }, "display_name"],
    ["note", { note: "n".repeat(500) }, { note: "n".repeat(501) }, "note"],
    ["field count", { fields_attributes: [1, 2, 3, 4].map((i) => ({ name: `f${i}`, value: "v" })) }, { fields_attributes: [1, 2, 3, 4, 5].map((i) => ({ name: `f${i}`, value: "v" })) }, "fields"],
    ["field name", { fields_attributes: [{ name: "n".repeat(255), value: "v" }] }, { fields_attributes: [{ name: "n".repeat(256), value: "v" }] }, "fields"],
    ["field value", { fields_attributes: [{ name: "n", value: "v".repeat(255) }] }, { fields_attributes: [{ name: "n", value: "v".repeat(256) }] }, "fields"],
  ];
  for (const [what, atLimit, overLimit, field] of limits) {
    test(`${what}: at the limit passes, one character over is a 422 that writes nothing`, async () => {
      expect((await patch({ json: atLimit })).status).toBe(200);
      const before = await current();
      const response = await patch({ json: { ...overLimit, locked: !before.locked } });
      expect(response.status).toBe(422);
      expectMatchesSchema(response.json, "ValidationError");
      expect(Object.keys(response.json.details)).toEqual([field]);
      expect(await current()).toEqual(before);
    });
  }

  test("a URL in the note counts as 23 characters, as Mastodon counts", async () => {
    const note = "x".repeat(470) + " https://example.com/" + "p".repeat(200);
    expect((await patch({ json: { note } })).status).toBe(200);
  });

  test("bad values are 422s, hostile strings are cleaned, never a 500", async () => {
    for (const json of [
      { locked: "maybe" },
      { source: { privacy: "secret" } },
      { source: { language: "english" } },
      { fields_attributes: "nope" },
      { fields_attributes: [{ name: { deep: 1 } }] },
      { display_name: ["x"] },
      { display_name: "x".repeat(100_000) },
    ]) {
      const response = await patch({ json });
      expect(response.status).toBe(422);
      expect(typeof response.json.error).toBe("string");
    }
    const cleaned = await patch({ json: { display_name: "nul\u0000here\ud800" } });
    expect(cleaned.status).toBe(200);
    expect(cleaned.json.display_name).toBe("nulhere\ufffd");
    expect((await patch({ form: { "fields_attributes[0][name][x][y]": "deep" } })).status).toBe(422);
  });

  test("scope refusal: a read-only token may not write", async () => {
    const response = await call("PATCH", "/api/v1/accounts/update_credentials", { token: tokens.aliceRead, json: { display_name: "hacked" } });
    expect(response).toMatchObject({ status: 403, json: { error: "This action is outside the authorized scopes" } });
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("reading accounts", () => {
  let remoteId: string;
  let pendingId: string;
  beforeAll(async () => {
    const [remote] = await context.sql<{ id: string }[]>`
      insert into accounts (username, domain, uri, url, display_name, note)
      values ('apibob', 'Accounts-API.Example', 'https://accounts-api.example/users/apibob', 'https://accounts-api.example/@apibob', 'Bob', 'plain')
      returning id`;
    remoteId = remote!.id;
    pendingId = (await makeUser("apipending", { confirmed: false })).id;
  });

  test("GET /api/v1/accounts/:id: local and remote accounts, with or without a token", async () => {
    const local = await call("GET", `/api/v1/accounts/${apialice.id}`);
    expect(local.status).toBe(200);
    expectMatchesSchema(local.json, "Account");
    expect(local.json).toMatchObject({ id: apialice.id, acct: "apialice", noindex: false });
    expect(local.json.source).toBeUndefined();
    expect((await call("GET", `/api/v1/accounts/${apialice.id}`, { token: tokens.apialice })).status).toBe(200);

    const remote = await call("GET", `/api/v1/accounts/${remoteId}`);
    expectMatchesSchema(remote.json, "Account");
    expect(remote.json).toMatchObject({ acct: "apibob@Accounts-API.Example", url: "https://accounts-api.example/@apibob", roles: [] });
    expect(remote.json.noindex).toBeUndefined();
  });

  test("hostile, unknown and hidden ids are 404 Record not found", async () => {
    for (const id of ["abc", "99999999999999999999", "9223372036854775808", "9223372036854775807", "0", "-1", "1e5", "..%2F1", "%00", "1%20or%201=1", pendingId]) {
      const response = await call("GET", `/api/v1/accounts/${id}`);
      expect({ id, status: response.status, json: response.json }).toEqual({ id, status: 404, json: { error: "Record not found" } });
    }
    expect((await call("GET", "/api/v1/accounts/../1")).status).toBe(404);
  });

  test("suspended accounts show the flag and nothing they wrote", async () => {
    const apidave = await makeUser("apidave");
    await context.sql`update accounts set display_name = 'Dave', note = 'hi', suspended_at = now(), silenced_at = now() where id = ${apidave.id}`;
    const response = await call("GET", `/api/v1/accounts/${apidave.id}`);
    expectMatchesSchema(response.json, "Account");
    expect(response.json).toMatchObject({ suspended: true, limited: true, display_name: "", note: "", fields: [] });
  });

  test("lookup by handle, local forms only", async () => {
    for (const acct of ["apialice", "@apialice", "apialice@woolly.test", "APIALICE@WOOLLY.TEST"]) {
      const response = await call("GET", `/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}`);
      expect({ acct, status: response.status, id: response.json.id }).toEqual({ acct, status: 200, id: apialice.id });
      expectMatchesSchema(response.json, "Account");
    }
    for (const acct of ["apialice@elsewhere.example", "apinobody", "", "@", "a@b@c", "'; drop table accounts; --", "x".repeat(500)]) {
      expect((await call("GET", `/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}`)).status).toBe(404);
    }
    expect((await call("GET", "/api/v1/accounts/lookup")).status).toBe(400);
  });

  test("several at once: requested order, unknown and hostile ids skipped, at most 40", async () => {
    const ids = [remoteId, "abc", apialice.id, "99999999999999999999", pendingId, apialice.id, "424242"];
    const response = await call("GET", `/api/v1/accounts?${ids.map((id) => `id[]=${encodeURIComponent(id)}`).join("&")}`);
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, arrayOf("Account"));
    expect(response.json.map((a: { id: string }) => a.id)).toEqual([remoteId, apialice.id]);
    expect((await call("GET", `/api/v1/accounts?id=${apialice.id}`)).json.map((a: { id: string }) => a.id)).toEqual([apialice.id]);
    expect((await call("GET", "/api/v1/accounts")).json).toEqual([]);
    const tooMany = Array.from({ length: 41 }, (_, i) => `id[]=${i + 1}`).join("&");
    expect((await call("GET", `/api/v1/accounts?${tooMany}`)).status).toBe(422);
  });

  test("the default avatar and header resolve to real PNGs", async () => {
    for (const url of ["/avatars/original/missing.png", "/headers/original/missing.png", "/images/preview.png"]) {
      const response = await app.handle(new Request(`http://localhost${url}`));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect([...bytes.slice(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("instance", () => {
  test("v2: real settings, limits, streaming URL; schema-valid; publicly cached", async () => {
    await setSetting(context.sql, "site_title", "Knitters");
    await setSetting(context.sql, "site_short_description", "Yarn talk");
    await setSetting(context.sql, "site_contact_email", "admin@woolly.test");
    await setSetting(context.sql, "registrations_mode", "approved");
    const response = await call("GET", "/api/v2/instance");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=180");
    expectMatchesSchema(response.json, "Instance");
    const instance = response.json;
    expect(instance).toMatchObject({ domain: "woolly.test", title: "Knitters", description: "Yarn talk", api_versions: { mastodon: 7 } });
    expect(instance.version).toMatch(/^4\.5\.0 \(compatible; Woolly \d+\.\d+\.\d+/);
    expect(instance.configuration.urls.streaming).toBe(context.config.streamingApiBaseUrl);
    expect(instance.configuration.statuses).toEqual({ max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 });
    expect(instance.registrations).toMatchObject({ enabled: true, approval_required: true });
    expect(instance.contact.email).toBe("admin@woolly.test");
    // No contact username set: the first Owner stands in (other test files may have made one earlier).
    await resetSetting(context.sql, "site_contact_username");
    const [firstOwner] = await context.sql`select a.username from users u join accounts a on a.id = u.account_id where u.role = 'Owner' order by u.id limit 1`;
    expect((await call("GET", "/api/v2/instance")).json.contact.account.username).toBe(firstOwner!.username);
    expect(instance.usage.users.active_month).toBeGreaterThan(0);
    expect((await (await app.handle(new Request(`http://localhost/images/preview.png`))).arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect(instance.thumbnail.url).toBe("http://woolly.test/images/preview.png");
  });

  test("v1 shape; contact username wins; closed registrations", async () => {
    await setSetting(context.sql, "site_contact_username", "@apialice");
    await setSetting(context.sql, "registrations_mode", "none");
    const response = await call("GET", "/api/v1/instance");
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "V1Instance");
    expect(response.json).toMatchObject({ uri: "woolly.test", title: "Knitters", registrations: false, approval_required: false, urls: { streaming_api: context.config.streamingApiBaseUrl } });
    expect(response.json.contact_account.username).toBe("apialice");
    // Confirmed and not suspended (the sign-ups here are unconfirmed, apidave is suspended).
    const [users] = await context.sql`
      select count(*)::int as n from users u join accounts a on a.id = u.account_id where u.confirmed_at is not null and a.suspended_at is null`;
    expect(response.json.stats.user_count).toBe(users!.n);
    const [domains] = await context.sql`select count(distinct lower(domain))::int as n from accounts where domain is not null`;
    expect(response.json.stats.domain_count).toBe(domains!.n);
    const v2 = await call("GET", "/api/v2/instance");
    expect(v2.json.registrations.enabled).toBe(false);
  });

  test("rules, peers, activity, extended description, custom emojis", async () => {
    expect((await call("GET", "/api/v1/instance/rules")).json).toEqual([]);
    await setSetting(context.sql, "rules", [{ text: "Be kind", hint: "Really" }, { text: "No spam" }]);
    try {
      const rules = await call("GET", "/api/v1/instance/rules");
      expect(rules.json).toEqual([
        { id: "1", text: "Be kind", hint: "Really" },
        { id: "2", text: "No spam", hint: "" },
      ]);
      expectMatchesSchema(rules.json, arrayOf("Rule"));
      expect((await call("GET", "/api/v2/instance")).json.rules).toEqual(rules.json);
    } finally {
      await resetSetting(context.sql, "rules");
    }

    const peers = await call("GET", "/api/v1/instance/peers");
    expect(peers.json).toContain("accounts-api.example");
    expect(peers.json).not.toContain("Accounts-API.Example");
    expect(peers.headers.get("cache-control")).toBe("public, max-age=86400");

    const activity = await call("GET", "/api/v1/instance/activity");
    expect(activity.json).toHaveLength(12);
    for (const week of activity.json) {
      expect(Object.values(week).every((v) => typeof v === "string" && /^\d+$/.test(v))).toBe(true);
      expect(Number(week.week) % 86_400).toBe(0);
    }
    expect(Number(activity.json[0].week)).toBeGreaterThan(Number(activity.json[1].week));
    expect(Number(activity.json[0].registrations)).toBeGreaterThanOrEqual(4);

    await setSetting(context.sql, "site_extended_description", "<p>About us</p>");
    const extended = await call("GET", "/api/v1/instance/extended_description");
    expectMatchesSchema(extended.json, "ExtendedDescription");
    expect(extended.json.content).toBe("<p>About us</p>");

    const emojis = await call("GET", "/api/v1/custom_emojis");
    expect(emojis.json).toEqual([]);
    expectMatchesSchema(emojis.json, arrayOf("CustomEmoji"));
  });

  test("the routes are documented in /swagger/json", async () => {
    const doc = (await (await app.handle(new Request("http://localhost/swagger/json"))).json()) as { paths: Record<string, unknown> };
    for (const path of ["/api/v1/accounts", "/api/v1/accounts/update_credentials", "/api/v1/accounts/{id}", "/api/v2/instance"]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
