/**
 * The rendered-status cache (features/statuses/render-cache.ts, api/entities/status.ts): a page costs a
 * fixed number of queries however many statuses it has, and nothing the cache holds is ever served stale —
 * edits, counters, the author's profile, media, cards, polls and the viewer's own flags all show at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import postgres from "postgres";
import { buildWebApp } from "../../src/api/app";
import { renderStatuses, statusRenderCaches } from "../../src/api/entities/status";
import { upsertCard, linkStatus } from "../../src/features/cards/store";
import { postStatus } from "../../src/features/statuses/service";
import type { AppContext } from "../../src/infra/context";
import type { Sql } from "../../src/infra/db";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const users: Record<string, { account: Awaited<ReturnType<typeof makeTestUser>>["account"]; token: string }> = {};

async function call(method: string, path: string, token?: string, json?: unknown) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (json !== undefined) headers["content-type"] = "application/json";
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) }));
  return { status: response.status, json: (await response.json()) as any };
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  for (const name of ["pf_sc_author", "pf_sc_reader", "pf_sc_other"]) {
    const made = await makeTestUser(context, name, { scopes: "read write follow" });
    users[name] = { account: made.account, token: made.token! };
  }
});
afterAll(() => context.close());

describe("a page costs a fixed number of queries", () => {
  test("20 statuses (with boosts, mentions, tags) cost no more queries than 2, and a warm page one query", async () => {
    const author = users.pf_sc_author!;
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { statusId } = await postStatus(context, author.account, { status: `query count ${i} #pfcache @pf_sc_reader`, visibility: "public" });
      ids.push(statusId);
    }
    const boost = await call("POST", `/api/v1/statuses/${ids[0]}/reblog`, users.pf_sc_other!.token);
    expect(boost.status).toBe(200);
    const page = [boost.json.id, ...ids];

    // Count the statements sent, with postgres.js's debug hook on a pool of our own.
    let queries = 0;
    const counted = postgres(context.config.db.url, { max: 4, types: {} as never, onnotice: () => {}, debug: () => void queries++ }) as unknown as Sql;
    const countedContext: AppContext = { ...context, sql: counted };
    const viewer = users.pf_sc_reader!.account;
    try {
      // Open every connection first: postgres.js reads the array types once per new connection.
      await Promise.all([1, 2, 3, 4].map(() => counted`select pg_sleep(0.02)`));
      // The first page of a pool also starts its custom-emoji listener (one LISTEN, once): not a page's cost.
      await renderStatuses(countedContext, viewer, page.slice(0, 1));
      await Bun.sleep(100);
      statusRenderCaches(countedContext).statuses.clear();
      statusRenderCaches(countedContext).accounts.clear();
      queries = 0;
      const smallCold = await renderStatuses(countedContext, viewer, page.slice(0, 2));
      const coldSmall = queries;
      statusRenderCaches(countedContext).statuses.clear();
      statusRenderCaches(countedContext).accounts.clear();
      queries = 0;
      const cold = await renderStatuses(countedContext, viewer, page);
      const coldFull = queries;
      queries = 0;
      const warm = await renderStatuses(countedContext, viewer, page);
      const warmFull = queries;

      expect(smallCold.length).toBe(2);
      expect(cold.length).toBe(21);
      // A cold page: the page query, then authors, mentions, tags, applications, media, cards (polls: none).
      expect(coldFull).toBe(coldSmall);
      expect(coldFull).toBeLessThanOrEqual(7);
      // A warm page: the one query that reads rows, versions and the viewer's flags.
      expect(warmFull).toBe(1);
      expect(warm).toEqual(cold);
      expect(warm[0]!.reblog!.id).toBe(ids[0]!);
      expect(warm[1]!.mentions.map((m) => m.username)).toEqual(["pf_sc_reader"]);
      expect(warm[1]!.tags.map((t) => t.name)).toEqual(["pfcache"]);
      for (const status of warm) expectMatchesSchema(status, "Status");
    } finally {
      await counted.end();
    }
  });
});

describe("never stale", () => {
  const get = (id: string, who = "pf_sc_reader") => call("GET", `/api/v1/statuses/${id}`, users[who]!.token);

  test("edits: content, tags, mentions and a content warning show at once; adding a CW makes it sensitive, removing it not", async () => {
    const author = users.pf_sc_author!;
    const created = await call("POST", "/api/v1/statuses", author.token, { status: "before #pfold", visibility: "public" });
    const id = created.json.id as string;
    expect((await get(id)).json.content).toContain("before");

    const edited = await call("PUT", `/api/v1/statuses/${id}`, author.token, { status: "after #pfnew @pf_sc_other", spoiler_text: "careful" });
    expect(edited.status).toBe(200);
    const seen = (await get(id)).json;
    expect(seen.content).toContain("after");
    expect(seen.tags.map((t: any) => t.name)).toEqual(["pfnew"]);
    expect(seen.mentions.map((m: any) => m.username)).toEqual(["pf_sc_other"]);
    expect(seen.spoiler_text).toBe("careful");
    expect(seen.sensitive).toBe(true);
    expect(seen.edited_at).not.toBeNull();

    // Mastodon's UpdateStatusService: sensitive = params[:sensitive] || spoiler_text.present?
    const uncovered = await call("PUT", `/api/v1/statuses/${id}`, author.token, { status: "after #pfnew", spoiler_text: "" });
    expect(uncovered.json.sensitive).toBe(false);
    expect((await get(id)).json.sensitive).toBe(false);
    const flagged = await call("PUT", `/api/v1/statuses/${id}`, author.token, { status: "after #pfnew", sensitive: true });
    expect(flagged.json.sensitive).toBe(true);
    // An edit naming neither keeps the flag.
    expect((await call("PUT", `/api/v1/statuses/${id}`, author.token, { status: "again" })).json.sensitive).toBe(true);
  });

  test("counters and the viewer's flags: favourites, boosts, bookmarks, replies", async () => {
    const author = users.pf_sc_author!;
    const reader = users.pf_sc_reader!;
    const id = (await call("POST", "/api/v1/statuses", author.token, { status: "count me", visibility: "public" })).json.id as string;
    expect((await get(id)).json).toMatchObject({ favourites_count: 0, reblogs_count: 0, replies_count: 0, favourited: false, bookmarked: false });
    await call("POST", `/api/v1/statuses/${id}/favourite`, reader.token);
    await call("POST", `/api/v1/statuses/${id}/reblog`, reader.token);
    await call("POST", `/api/v1/statuses/${id}/bookmark`, reader.token);
    await call("POST", "/api/v1/statuses", users.pf_sc_other!.token, { status: "a reply", in_reply_to_id: id, visibility: "public" });
    expect((await get(id)).json).toMatchObject({ favourites_count: 1, reblogs_count: 1, replies_count: 1, favourited: true, reblogged: true, bookmarked: true });
    // Another viewer sees the counts but not the reader's flags.
    expect((await get(id, "pf_sc_other")).json).toMatchObject({ favourites_count: 1, favourited: false, reblogged: false, bookmarked: false });
    await call("POST", `/api/v1/statuses/${id}/unfavourite`, reader.token);
    expect((await get(id)).json).toMatchObject({ favourites_count: 0, favourited: false });
  });

  test("the author's profile: a new display name shows on statuses rendered before", async () => {
    const author = users.pf_sc_author!;
    const id = (await call("POST", "/api/v1/statuses", author.token, { status: "who am I", visibility: "public" })).json.id as string;
    expect((await get(id)).json.account.display_name).toBe("");
    const patched = await call("PATCH", "/api/v1/accounts/update_credentials", author.token, { display_name: "Sheep Cache" });
    expect(patched.status).toBe(200);
    expect((await get(id)).json.account.display_name).toBe("Sheep Cache");
    // Counts on the embedded account move too (they are part of the cached Account).
    const before = (await get(id)).json.account.statuses_count as number;
    await call("POST", "/api/v1/statuses", author.token, { status: "one more", visibility: "public" });
    expect((await get(id)).json.account.statuses_count).toBe(before + 1);
  });

  test("a card linked (or re-linked, or refreshed) after the status was rendered shows at once", async () => {
    const author = users.pf_sc_author!;
    const id = (await call("POST", "/api/v1/statuses", author.token, { status: "see https://example.com/pf-card", visibility: "public" })).json.id as string;
    expect((await get(id)).json.card).toBeNull();
    const card = {
      url: "https://example.com/pf-card",
      title: "A card",
      description: "about it",
      type: "link" as const,
      authorName: "",
      authorUrl: "",
      providerName: "Example",
      providerUrl: "",
      html: "",
      width: 0,
      height: 0,
      imageUrl: null,
      imageDescription: "",
      embedUrl: "",
      language: null,
      publishedAt: null,
    };
    const cardId = await upsertCard(context.sql, "https://example.com/pf-card", card, "fetched" as never, 3600);
    await linkStatus(context.sql, id, cardId, "https://example.com/pf-card");
    const seen = (await get(id)).json;
    expect(seen.card).toMatchObject({ url: "https://example.com/pf-card", title: "A card" });
    expectMatchesSchema(seen, "Status");
    await upsertCard(context.sql, "https://example.com/pf-card", { ...card, title: "A better card" }, "fetched" as never, 3600);
    expect((await get(id)).json.card.title).toBe("A better card");
  });

  test("polls: votes and tallies are never cached", async () => {
    const author = users.pf_sc_author!;
    const created = await call("POST", "/api/v1/statuses", author.token, { status: "pick", poll: { options: ["a", "b"], expires_in: 3600 } });
    const id = created.json.id as string;
    expect((await get(id)).json.poll).toMatchObject({ votes_count: 0, voted: false, own_votes: [] });
    const voted = await call("POST", `/api/v1/polls/${created.json.poll.id}/votes`, users.pf_sc_reader!.token, { choices: [1] });
    expect(voted.status).toBe(200);
    expect((await get(id)).json.poll).toMatchObject({ votes_count: 1, voted: true, own_votes: [1] });
  });

  test("deleted and suspended: gone at once, though rendered before", async () => {
    const other = users.pf_sc_other!;
    const id = (await call("POST", "/api/v1/statuses", other.token, { status: "short-lived", visibility: "public" })).json.id as string;
    expect((await get(id)).status).toBe(200);
    expect((await call("DELETE", `/api/v1/statuses/${id}`, other.token)).status).toBe(200);
    expect((await get(id)).status).toBe(404);
  });

  test("through masto.js: a status fetched twice around an edit", async () => {
    const author = users.pf_sc_author!;
    const server = Bun.serve({ port: 0, fetch: (request) => app.handle(request) });
    try {
      const client = createRestAPIClient({ url: `http://localhost:${server.port}`, accessToken: author.token });
      const status = await client.v1.statuses.create({ status: "masto before", visibility: "public" });
      expect((await client.v1.statuses.$select(status.id).fetch()).content).toContain("masto before");
      await client.v1.statuses.$select(status.id).update({ status: "masto after", spoilerText: "cw" });
      const after = await client.v1.statuses.$select(status.id).fetch();
      expect(after.content).toContain("masto after");
      expect(after.sensitive).toBe(true);
    } finally {
      server.stop(true);
    }
  });
});
