/**
 * Trends: the trends.refresh job counts the last week of public posts into small tables; /api/v1/trends/tags
 * (and /api/v1/trends), /statuses and /links read them. Other test files share the database, so assertions
 * look for this file's own tags, posts and links rather than whole lists.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import { attachFederatedCard } from "../../src/features/cards/service";
import { refreshTrendsJob } from "../../src/features/trends/jobs";
import { jobRegistry } from "../../src/jobs";
import { RECURRING } from "../../src/scheduler/recurring";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};

const arrayOf = (name: string) => ({ type: "array", items: { $ref: `#/components/schemas/${name}` } });

async function make(name: string, discoverable: boolean) {
  const { token } = await makeTestUser(context, `se_tr_${name}`, { scopes: "read write follow" });
  tokens[name] = token!;
  expect((await call("PATCH", "/api/v1/accounts/update_credentials", { token: token!, json: { discoverable } })).status).toBe(200);
}

async function post(name: string, json: Record<string, unknown>): Promise<string> {
  const response = await call("POST", "/api/v1/statuses", { token: tokens[name], json });
  expect(response.status).toBe(200);
  return response.json.id;
}

const refresh = () => refreshTrendsJob.handler({}, { ...context, jobId: "test", attempt: 1 });

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  await make("a", true);
  await make("b", true);
  await make("c", true);
  await make("shy", false);
  await post("a", { status: "#SeTrendy one" });
  await post("b", { status: "#setrendy two" });
  await post("a", { status: "#setrendy three" });
  await post("c", { status: "#SeLonely nobody else" });
  await post("b", { status: "#SeHushed but privately", visibility: "private" });
  await post("c", { status: "#sehushed too", visibility: "unlisted" });
  ids.popular = await post("a", { status: "a popular post" });
  ids.ignored = await post("b", { status: "a post nobody liked" });
  ids.shy = await post("shy", { status: "liked, but the author is not discoverable" });
  ids.privateLiked = await post("a", { status: "liked, but followers only", visibility: "private" });
  ids.cw = await post("b", { status: "liked, behind a content warning", spoiler_text: "cw" });
  for (const id of [ids.popular, ids.shy, ids.cw]) expect((await call("POST", `/api/v1/statuses/${id}/favourite`, { token: tokens.c })).status).toBe(200);
  expect((await call("POST", `/api/v1/statuses/${ids.popular}/reblog`, { token: tokens.b })).status).toBe(200);
  // Two accounts share one link (its card came with the federated copy); a third link is shared once.
  for (const [name, url] of [["a", "https://trend.example/story"], ["b", "https://trend.example/story"], ["c", "https://trend.example/alone"]] as const) {
    const id = await post(name, { status: `read ${url}` });
    expect(await attachFederatedCard(context, id, { url, title: `Story at ${url}` })).toBe(true);
  }
  await refresh();
});

afterAll(async () => {
  await context.close();
});

describe("trends", () => {
  test("the refresh is a recurring job the workers know", () => {
    expect(RECURRING.find((r) => r.name === "trends.refresh")?.job).toBe(refreshTrendsJob);
    expect(jobRegistry.get("trends.refresh") as unknown).toBe(refreshTrendsJob);
  });

  test("trending tags: used by several accounts in public posts, with a real history", async () => {
    const response = await call("GET", "/api/v1/trends/tags?limit=20");
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, arrayOf("Tag"));
    const names = response.json.map((t: { name: string }) => t.name);
    expect(names).toContain("SeTrendy");
    expect(names).not.toContain("SeLonely");
    expect(names).not.toContain("SeHushed");
    const trendy = response.json.find((t: { name: string }) => t.name === "SeTrendy");
    expect(trendy.history.length).toBe(7);
    expect(trendy.history[0]).toEqual({ day: String(Date.parse(new Date().toISOString().slice(0, 10)) / 1000), uses: "3", accounts: "2" });
    // The same history on the tag's own page (and the old /api/v1/trends alias answers the same list).
    const tag = await call("GET", "/api/v1/tags/setrendy");
    expect(tag.json.history[0]).toEqual(trendy.history[0]);
    expect((await call("GET", "/api/v1/trends?limit=20")).json).toEqual(response.json);
  });

  test("trending statuses: public, discoverable authors, no content warning, with interactions", async () => {
    const response = await call("GET", "/api/v1/trends/statuses?limit=40", { token: tokens.c });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, arrayOf("Status"));
    const found = response.json.map((s: { id: string }) => s.id);
    expect(found).toContain(ids.popular);
    for (const id of [ids.ignored, ids.shy, ids.privateLiked, ids.cw]) expect(found).not.toContain(id);
  });

  test("trending links: cards shared by several accounts", async () => {
    const response = await call("GET", "/api/v1/trends/links?limit=20");
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, arrayOf("TrendsLink"));
    const story = response.json.find((l: { url: string }) => l.url === "https://trend.example/story");
    expect(story?.title).toBe("Story at https://trend.example/story");
    expect(story.history[0].accounts).toBe("2");
    expect(response.json.map((l: { url: string }) => l.url)).not.toContain("https://trend.example/alone");
  });

  test("posts dated in the future (a remote clock, or a trick to weigh more) do not count", async () => {
    const future = [await post("a", { status: "#SeFuture soon" }), await post("b", { status: "#sefuture soon" })];
    // as a remote server could send them: published two days ahead
    await context.sql`update statuses set created_at = now() + interval '2 days' where id = any(${future}::bigint[])`;
    await refresh();
    const names = (await call("GET", "/api/v1/trends/tags?limit=20")).json.map((t: { name: string }) => t.name);
    expect(names).toContain("SeTrendy");
    expect(names).not.toContain("SeFuture");
  });

  test("paging by offset, and bad input", async () => {
    const first = await call("GET", "/api/v1/trends/tags?limit=1");
    expect(first.json.length).toBe(1);
    expect(first.headers.get("link")).toContain("offset=1");
    expect((await call("GET", "/api/v1/trends/tags?offset=-1")).status).toBe(400);
    expect((await call("GET", "/api/v1/trends/statuses?limit=-1")).status).toBe(400);
    expect((await call("GET", "/api/v1/trends/links?offset=99999999")).status).toBe(400);
    expect((await call("GET", "/api/v1/trends/tags?offset=900")).json).toEqual([]);
  });

  test("a deleted post leaves the trends at the next refresh", async () => {
    expect((await call("DELETE", `/api/v1/statuses/${ids.popular}`, { token: tokens.a })).status).toBe(200);
    await refresh();
    const found = (await call("GET", "/api/v1/trends/statuses?limit=40")).json.map((s: { id: string }) => s.id);
    expect(found).not.toContain(ids.popular);
  });

  test("masto.js and megalodon read trends", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const url = `http://127.0.0.1:${server.server!.port}`;
      const tags = await createRestAPIClient({ url }).v1.trends.tags.list({ limit: 20 });
      expect(tags.map((t) => t.name)).toContain("SeTrendy");
      const megalodon = await generator("mastodon", url).getInstanceTrends(20);
      expect(megalodon.data.map((t) => t.name)).toContain("SeTrendy");
    } finally {
      server.stop(true);
    }
  });
});
