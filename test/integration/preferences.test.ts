/**
 * Preferences (posting defaults set through update_credentials, reading choices from the user's settings)
 * and featured tags (CRUD, the limit of 10, Mastodon's 422s, counts of the account's own public posts,
 * suggestions, another account's featured tags), with masto.js and megalodon. Usernames start with `ca_r`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let web: ReturnType<typeof buildWebApp>;
let base: string;
const call = inProcessApi(() => app);
let counter = 0;
type User = LocalAccountRow & { token: string };

async function user(name: string): Promise<User> {
  const username = `ca_r${name}_${++counter}_${Date.now().toString(36)}`;
  const { account, token } = await makeTestUser(context, username, { scopes: "read write" });
  return { ...account, token: token! };
}

const as = (who: { token: string }) => ({
  get: (path: string) => call("GET", path, { token: who.token }),
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  patch: (path: string, json: unknown = {}) => call("PATCH", path, { token: who.token, json }),
  del: (path: string) => call("DELETE", path, { token: who.token }),
});

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${web.server!.port}`;
});

afterAll(async () => {
  await web.stop(true);
  await context.close();
});

describe("preferences", () => {
  test("defaults, then what update_credentials and the user's settings say (masto.js and megalodon)", async () => {
    const me = await user("prefs");
    const fresh = (await as(me).get("/api/v1/preferences")).json;
    expectMatchesSchema(fresh, "Preferences");
    expect(fresh).toEqual({
      "posting:default:visibility": "public",
      "posting:default:sensitive": false,
      "posting:default:language": null,
      "reading:expand:media": "default",
      "reading:expand:spoilers": false,
    });
    const updated = await as(me).patch("/api/v1/accounts/update_credentials", { source: { privacy: "private", sensitive: true, language: "fr" } });
    expect(updated.status).toBe(200);
    await context.sql`update users set settings = settings || ${context.sql.json({ display_media: "hide_all", expand_spoilers: true })} where id = ${me.user.id}`;
    const viaMasto = await createRestAPIClient({ url: base, accessToken: me.token }).v1.preferences.fetch();
    expect(viaMasto).toMatchObject({ "posting:default:visibility": "private", "posting:default:sensitive": true, "posting:default:language": "fr" });
    const viaMega = (await generator("mastodon", base, me.token).getPreferences()).data;
    expect(viaMega).toEqual({
      "posting:default:visibility": "private",
      "posting:default:sensitive": true,
      "posting:default:language": "fr",
      "reading:expand:media": "hide_all",
      "reading:expand:spoilers": true,
    });
    // A junk stored value falls back to the default rather than leaking out.
    await context.sql`update users set settings = settings || ${context.sql.json({ display_media: "<script>" })} where id = ${me.user.id}`;
    // (A profile update refreshes the signed-in caller the API keeps for a moment.)
    expect((await as(me).patch("/api/v1/accounts/update_credentials", { source: { privacy: "unlisted" } })).status).toBe(200);
    expect((await as(me).get("/api/v1/preferences")).json["reading:expand:media"]).toBe("default");
    expect((await call("GET", "/api/v1/preferences")).status).toBe(401);
  });
});

describe("featured tags", () => {
  test("feature, list with counts, suggestions, another account's view, unfeature; Mastodon's refusals", async () => {
    const me = await user("feat");
    const other = await user("featother");
    for (const text of ["#Woolly is great", "more #woolly and #ca_cats", "private #woolly"]) {
      const visibility = text.startsWith("private") ? "private" : "public";
      expect((await as(me).post("/api/v1/statuses", { status: text, visibility })).status).toBe(200);
    }
    // Suggestions: my most used tags, as Tag entities.
    const suggestions = (await as(me).get("/api/v1/featured_tags/suggestions")).json;
    expectMatchesSchema(suggestions, arrayOf("Tag"));
    expect(suggestions.map((t: { name: string }) => t.name.toLowerCase())).toEqual(["woolly", "ca_cats"]);

    const client = createRestAPIClient({ url: base, accessToken: me.token });
    const woolly = await client.v1.featuredTags.create({ name: "#WOOLLY" });
    expect(woolly).toMatchObject({ statusesCount: "2" });
    expect(woolly.name.toLowerCase()).toBe("woolly");
    expect(woolly.lastStatusAt).toBe(new Date().toISOString().slice(0, 10));
    const fresh = (await as(me).post("/api/v1/featured_tags", { name: "brandnew_ca" })).json;
    expectMatchesSchema(fresh, "FeaturedTag");
    expect(fresh).toMatchObject({ name: "brandnew_ca", statuses_count: "0", last_status_at: null });

    const listed = (await as(me).get("/api/v1/featured_tags")).json;
    expectMatchesSchema(listed, arrayOf("FeaturedTag"));
    expect(listed.map((t: { id: string }) => t.id)).toEqual([woolly.id, fresh.id]);
    // Suggestions leave out what is featured.
    expect((await as(me).get("/api/v1/featured_tags/suggestions")).json.map((t: { name: string }) => t.name)).toEqual(["ca_cats"]);
    // Anyone may see an account's featured tags (megalodon reads them too).
    const seen = (await generator("mastodon", base, other.token).getFeaturedTags()).data;
    expect(seen).toHaveLength(0);
    const anon = await call("GET", `/api/v1/accounts/${me.id}/featured_tags`);
    expect(anon.json.map((t: { id: string }) => t.id)).toEqual([woolly.id, fresh.id]);

    const refuse = async (name: unknown, error: string) => {
      const r = await as(me).post("/api/v1/featured_tags", { name });
      expect([String(name), r.status, r.json.error]).toEqual([String(name), 422, error]);
    };
    await refuse("woolly", "Validation failed: Tag has already been taken");
    await refuse("not a tag!", "Validation failed: Tag is invalid");
    await refuse("", "Validation failed: Tag is invalid");
    for (let i = 0; i < 8; i++) expect((await as(me).post("/api/v1/featured_tags", { name: `ca_t${i}` })).status).toBe(200);
    await refuse("ca_eleventh", "Validation failed: You already have the maximum of 10 featured hashtags");

    await client.v1.featuredTags.$select(fresh.id).remove();
    expect((await as(me).get("/api/v1/featured_tags")).json).toHaveLength(9);
    expect((await as(other).del(`/api/v1/featured_tags/${woolly.id}`)).status).toBe(404);
    expect((await as(me).del(`/api/v1/featured_tags/${fresh.id}`)).status).toBe(404);
    expect((await as(me).del("/api/v1/featured_tags/abc")).status).toBe(404);
    expect((await call("GET", "/api/v1/accounts/99999999/featured_tags")).status).toBe(404);
  });
});
