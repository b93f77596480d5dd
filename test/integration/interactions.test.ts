/**
 * Interactions with statuses through the API as clients call it: boost, favourite, bookmark, pin, conversation
 * mute, reblogged_by / favourited_by, the favourites and bookmarks lists. Counters stay exact under repeated
 * and concurrent calls; statuses the caller may not see are 404 through every door. Test statuses are plain
 * rows (the posting API is another engineer's), follows and blocks likewise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { expectMatchesSchema } from "../helpers/openapi";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const users: Record<string, { account: LocalAccountRow; token: string }> = {};

async function makeUser(name: string) {
  const { account, token } = await makeTestUser(context, `int_${name}`, { scopes: "read write follow" });
  users[name] = { account, token: token! };
}

/** A status row as the posting service would leave it (mentions and conversation included). */
async function post(author: string, options: { visibility?: string; mentions?: string[]; conversationId?: string } = {}): Promise<string> {
  const account = users[author]!.account;
  const [row] = await context.sql<{ id: string }[]>`
    insert into statuses (account_id, text, content, visibility, uri, conversation_id)
    values (${account.id}, 'hello', '<p>hello</p>', ${options.visibility ?? "public"}, ${"urn:test:" + crypto.randomUUID()}, ${options.conversationId ?? null})
    returning id`;
  for (const name of options.mentions ?? []) {
    await context.sql`insert into mentions (status_id, account_id) values (${row!.id}, ${users[name]!.account.id})`;
  }
  return row!.id;
}

async function follow(from: string, to: string) {
  await context.sql`insert into follows (account_id, target_account_id) values (${users[from]!.account.id}, ${users[to]!.account.id}) on conflict do nothing`;
}

async function call(method: string, path: string, as?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (as) headers.authorization = `Bearer ${users[as]!.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, link: response.headers.get("link") };
}

async function counts(statusId: string) {
  const [row] = await context.sql<{ favourites_count: number; reblogs_count: number }[]>`select favourites_count, reblogs_count from statuses where id = ${statusId}`;
  return row!;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  for (const name of ["alice", "bob", "carol", "dave", "erin"]) await makeUser(name);
});
afterAll(() => context.close());

describe("favourite", () => {
  test("favourite and unfavourite are idempotent and the counter stays exact", async () => {
    const id = await post("alice");
    const first = await call("POST", `/api/v1/statuses/${id}/favourite`, "bob");
    expect(first.status).toBe(200);
    expect(first.json.id).toBe(id);
    expect(first.json.favourited).toBe(true);
    expect(first.json.favourites_count).toBe(1);
    expectMatchesSchema(first.json, "Status");
    expect((await call("POST", `/api/v1/statuses/${id}/favourite`, "bob")).json.favourites_count).toBe(1);
    expect((await counts(id)).favourites_count).toBe(1);

    const undo = await call("POST", `/api/v1/statuses/${id}/unfavourite`, "bob");
    expect(undo.json.favourited).toBe(false);
    expect(undo.json.favourites_count).toBe(0);
    expect((await call("POST", `/api/v1/statuses/${id}/unfavourite`, "bob")).status).toBe(200);
    expect((await counts(id)).favourites_count).toBe(0);
  });

  test("concurrent favourites from several accounts count once each", async () => {
    const id = await post("alice");
    const calls = ["bob", "carol", "dave"].flatMap((name) => Array.from({ length: 4 }, () => call("POST", `/api/v1/statuses/${id}/favourite`, name)));
    const results = await Promise.all(calls);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await counts(id)).favourites_count).toBe(3);
    await Promise.all(["bob", "carol", "bob", "carol"].map((name) => call("POST", `/api/v1/statuses/${id}/unfavourite`, name)));
    expect((await counts(id)).favourites_count).toBe(1);
  });

  test("a status you may not see is a 404, and so are malformed or unknown ids", async () => {
    const privateId = await post("alice", { visibility: "private" });
    const directId = await post("alice", { visibility: "direct", mentions: ["bob"] });
    expect((await call("POST", `/api/v1/statuses/${privateId}/favourite`, "carol")).status).toBe(404);
    expect((await call("POST", `/api/v1/statuses/${directId}/favourite`, "carol")).status).toBe(404);
    expect((await call("POST", `/api/v1/statuses/${directId}/favourite`, "bob")).status).toBe(200);
    for (const bad of ["abc", "99999999999999999999", "1", "-5", "..%2F..%2Fetc"]) {
      const response = await call("POST", `/api/v1/statuses/${bad}/favourite`, "bob");
      expect(response.status).toBe(404);
      expect(response.json).toEqual({ error: "Record not found" });
    }
    expect((await counts(privateId)).favourites_count).toBe(0);
  });

  test("needs a user token with a write scope", async () => {
    const id = await post("alice");
    expect((await call("POST", `/api/v1/statuses/${id}/favourite`)).status).toBe(401);
    const { token } = await issueToken(context.sql, { userId: users.bob!.account.user.id, applicationId: null, scopes: "read" });
    const response = await app.handle(new Request(`http://localhost/api/v1/statuses/${id}/favourite`, { method: "POST", headers: { authorization: `Bearer ${token}` } }));
    expect(response.status).toBe(403);
  });
});

describe("reblog", () => {
  test("boost once, second boost returns the same, unreblog undoes it", async () => {
    const id = await post("alice");
    const first = await call("POST", `/api/v1/statuses/${id}/reblog`, "bob");
    expect(first.status).toBe(200);
    expectMatchesSchema(first.json, "Status");
    expect(first.json.reblog.id).toBe(id);
    expect(first.json.reblog.reblogged).toBe(true);
    expect(first.json.reblog.reblogs_count).toBe(1);
    expect(first.json.account.username).toBe("int_bob");
    expect(first.json.uri).toBe(`${context.config.baseUrl}/users/int_bob/statuses/${first.json.id}/activity`);
    const second = await call("POST", `/api/v1/statuses/${id}/reblog`, "bob");
    expect(second.json.id).toBe(first.json.id);
    // Boosting the boost boosts the original.
    expect((await call("POST", `/api/v1/statuses/${first.json.id}/reblog`, "bob")).json.id).toBe(first.json.id);
    expect((await counts(id)).reblogs_count).toBe(1);

    const undo = await call("POST", `/api/v1/statuses/${id}/unreblog`, "bob");
    expect(undo.status).toBe(200);
    expect(undo.json.id).toBe(id);
    expect(undo.json.reblogged).toBe(false);
    expect(undo.json.reblogs_count).toBe(0);
    expect((await call("POST", `/api/v1/statuses/${id}/unreblog`, "bob")).json.reblogs_count).toBe(0);
    // The boost itself is gone.
    expect((await call("GET", `/api/v1/statuses/${first.json.id}/reblogged_by`, "bob")).status).toBe(404);
  });

  test("concurrent boosts make one boost", async () => {
    const id = await post("alice");
    const statusesCount = async () => (await context.sql<{ n: number }[]>`select statuses_count as n from accounts where id = ${users.carol!.account.id}`)[0]!.n;
    const before = await statusesCount();
    const results = await Promise.all(Array.from({ length: 6 }, () => call("POST", `/api/v1/statuses/${id}/reblog`, "carol")));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
    expect((await counts(id)).reblogs_count).toBe(1);
    const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from statuses where reblog_of_id = ${id} and deleted_at is null`;
    expect(row!.n).toBe(1);
    // A boost counts in the booster's statuses_count, once.
    expect(await statusesCount()).toBe(before + 1);
    await Promise.all(Array.from({ length: 3 }, () => call("POST", `/api/v1/statuses/${id}/unreblog`, "carol")));
    expect(await statusesCount()).toBe(before);
    expect((await counts(id)).reblogs_count).toBe(0);
  });

  test("visibility param, private and direct posts", async () => {
    const id = await post("alice");
    const unlisted = await call("POST", `/api/v1/statuses/${id}/reblog`, "dave", { visibility: "unlisted" });
    expect(unlisted.json.visibility).toBe("unlisted");
    expect((await call("POST", `/api/v1/statuses/${id}/reblog`, "erin", { visibility: "direct" })).status).toBe(422);
    expect((await call("POST", `/api/v1/statuses/${id}/reblog`, "erin", { visibility: 5 })).status).toBe(422);

    await follow("bob", "alice");
    const privateId = await post("alice", { visibility: "private" });
    const refused = await call("POST", `/api/v1/statuses/${privateId}/reblog`, "bob");
    expect(refused.status).toBe(422);
    expect(typeof refused.json.error).toBe("string");
    expect((await call("POST", `/api/v1/statuses/${privateId}/reblog`, "carol")).status).toBe(404);
    // The author may boost their own followers-only post; the boost stays followers-only.
    const own = await call("POST", `/api/v1/statuses/${privateId}/reblog`, "alice", { visibility: "public" });
    expect(own.status).toBe(200);
    expect(own.json.visibility).toBe("private");

    const directId = await post("alice", { visibility: "direct", mentions: ["bob"] });
    expect((await call("POST", `/api/v1/statuses/${directId}/reblog`, "bob")).status).toBe(422);
    expect((await call("POST", `/api/v1/statuses/${directId}/reblog`, "alice")).status).toBe(422);
    expect((await counts(privateId)).reblogs_count).toBe(1);
    expect((await counts(directId)).reblogs_count).toBe(0);
  });
});

describe("bookmarks and favourites lists", () => {
  test("bookmarks page by bookmark with Link headers, newest bookmark first", async () => {
    const ids = [await post("alice"), await post("alice"), await post("alice")];
    // Bookmarked in an order different from the statuses' own.
    for (const id of [ids[1]!, ids[0]!, ids[2]!]) {
      const response = await call("POST", `/api/v1/statuses/${id}/bookmark`, "erin");
      expect(response.json.bookmarked).toBe(true);
    }
    expect((await call("POST", `/api/v1/statuses/${ids[0]}/bookmark`, "erin")).status).toBe(200);
    const first = await call("GET", "/api/v1/bookmarks?limit=2", "erin");
    expect(first.json.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[0]]);
    expect(first.link).toContain('rel="next"');
    const next = /<([^>]+)>; rel="next"/.exec(first.link!)![1]!;
    const second = await call("GET", next.replace(context.config.baseUrl, ""), "erin");
    expect(second.json.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
    const prev = /<([^>]+)>; rel="prev"/.exec(second.link!)![1]!;
    expect((await call("GET", prev.replace(context.config.baseUrl, ""), "erin")).json.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[0]]);

    await call("POST", `/api/v1/statuses/${ids[0]}/unbookmark`, "erin");
    expect((await call("GET", "/api/v1/bookmarks", "erin")).json.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    expect((await call("GET", "/api/v1/bookmarks?limit=-1", "erin")).status).toBe(400);
    expect((await call("GET", "/api/v1/bookmarks?max_id=abc", "erin")).status).toBe(400);
  });

  test("favourites list drops statuses the viewer can no longer see", async () => {
    await follow("dave", "alice");
    const visible = await post("alice");
    const hidden = await post("alice", { visibility: "private" });
    await call("POST", `/api/v1/statuses/${hidden}/favourite`, "dave");
    await call("POST", `/api/v1/statuses/${visible}/favourite`, "dave");
    expect((await call("GET", "/api/v1/favourites", "dave")).json.slice(0, 2).map((s: { id: string }) => s.id)).toEqual([visible, hidden]);
    await context.sql`delete from follows where account_id = ${users.dave!.account.id} and target_account_id = ${users.alice!.account.id}`;
    const after = (await call("GET", "/api/v1/favourites", "dave")).json.map((s: { id: string }) => s.id);
    expect(after).toContain(visible);
    expect(after).not.toContain(hidden);
  });
});

describe("reblogged_by and favourited_by", () => {
  test("list accounts with Link paging; invisible statuses are 404", async () => {
    const id = await post("alice");
    for (const name of ["bob", "carol", "dave"]) await call("POST", `/api/v1/statuses/${id}/favourite`, name);
    const page = await call("GET", `/api/v1/statuses/${id}/favourited_by?limit=2`, "erin");
    expect(page.status).toBe(200);
    expect(page.json.map((a: { username: string }) => a.username)).toEqual(["int_dave", "int_carol"]);
    const next = /<([^>]+)>; rel="next"/.exec(page.link!)![1]!;
    expect((await call("GET", next.replace(context.config.baseUrl, ""))).json.map((a: { username: string }) => a.username)).toEqual(["int_bob"]);

    await call("POST", `/api/v1/statuses/${id}/reblog`, "carol");
    expect((await call("GET", `/api/v1/statuses/${id}/reblogged_by`)).json.map((a: { username: string }) => a.username)).toEqual(["int_carol"]);

    const privateId = await post("alice", { visibility: "private" });
    expect((await call("GET", `/api/v1/statuses/${privateId}/favourited_by`, "erin")).status).toBe(404);
    expect((await call("GET", `/api/v1/statuses/${privateId}/reblogged_by`)).status).toBe(404);
    expect((await call("GET", `/api/v1/statuses/${privateId}/favourited_by`, "alice")).status).toBe(200);
  });
});

describe("pin", () => {
  test("own statuses only, at most five, idempotent", async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => post("carol")));
    const pinned = await Promise.all(ids.map((id) => call("POST", `/api/v1/statuses/${id}/pin`, "carol")));
    expect(pinned.filter((r) => r.status === 200).length).toBe(5);
    expect(pinned.filter((r) => r.status === 422).length).toBe(1);
    const ok = pinned.find((r) => r.status === 200)!;
    expect(ok.json.pinned).toBe(true);
    expect((await call("POST", `/api/v1/statuses/${ok.json.id}/pin`, "carol")).status).toBe(200);

    const other = await post("alice");
    expect((await call("POST", `/api/v1/statuses/${other}/pin`, "erin")).status).toBe(422);
    const direct = await post("erin", { visibility: "direct", mentions: ["alice"] });
    expect((await call("POST", `/api/v1/statuses/${direct}/pin`, "erin")).status).toBe(422);

    const unpinned = await call("POST", `/api/v1/statuses/${ok.json.id}/unpin`, "carol");
    expect(unpinned.json.pinned).toBe(false);
    const left = pinned.find((r) => r.status === 422)!;
    const refusedId = ids[pinned.indexOf(left)]!;
    expect((await call("POST", `/api/v1/statuses/${refusedId}/pin`, "carol")).status).toBe(200);
  });
});

describe("mute conversation", () => {
  test("only for someone taking part; muted flag round-trips", async () => {
    const [conversation] = await context.sql<{ id: string }[]>`insert into conversations default values returning id`;
    const id = await post("alice", { conversationId: conversation!.id, mentions: ["bob"] });
    const muted = await call("POST", `/api/v1/statuses/${id}/mute`, "bob");
    expect(muted.status).toBe(200);
    expect(muted.json.muted).toBe(true);
    expect((await call("POST", `/api/v1/statuses/${id}/mute`, "bob")).status).toBe(200);
    expect((await call("POST", `/api/v1/statuses/${id}/mute`, "erin")).status).toBe(422);
    const unmuted = await call("POST", `/api/v1/statuses/${id}/unmute`, "bob");
    expect(unmuted.json.muted).toBe(false);
    expect((await call("POST", `/api/v1/statuses/${await post("alice")}/mute`, "alice")).status).toBe(422);
  });
});

describe("through masto.js", () => {
  test("favourite, bookmark and list favourites", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const masto = createRestAPIClient({ url: `http://127.0.0.1:${server.server!.port}`, accessToken: users.erin!.token });
      const id = await post("alice");
      const favourited = await masto.v1.statuses.$select(id).favourite();
      expect(favourited.favourited).toBe(true);
      expect(favourited.favouritesCount).toBe(1);
      const bookmarked = await masto.v1.statuses.$select(id).bookmark();
      expect(bookmarked.bookmarked).toBe(true);
      const list = await masto.v1.favourites.list({ limit: 5 });
      expect(list[0]!.id).toBe(id);
      const boosted = await masto.v1.statuses.$select(id).reblog({ visibility: "unlisted" });
      expect(boosted.reblog?.id).toBe(id);
    } finally {
      await server.stop(true);
    }
  });
});

describe("hostile input", () => {
  test("no 5xx for odd ids, bodies and queries on any interaction door", async () => {
    const id = await post("alice");
    const ids = [id, "abc", "0", "-1", "9223372036854775808", "1e5", "%00", "..%2F"];
    const raw = async (method: string, path: string, body?: string, type = "application/json") => {
      const response = await app.handle(
        new Request(`http://localhost${path}`, { method, headers: { authorization: `Bearer ${users.erin!.token}`, "content-type": type }, body }),
      );
      return response.status;
    };
    for (const target of ids) {
      for (const action of ["reblog", "unreblog", "favourite", "unfavourite", "bookmark", "unbookmark", "pin", "unpin", "mute", "unmute"]) {
        expect(await raw("POST", `/api/v1/statuses/${target}/${action}`)).toBeLessThan(500);
      }
      for (const list of ["reblogged_by", "favourited_by"]) expect(await raw("GET", `/api/v1/statuses/${target}/${list}?limit=999999`)).toBeLessThan(500);
    }
    for (const body of ["{", '{"visibility": null}', '{"visibility": ["public"]}', '{"visibility": {"a": 1}}', "[]", "null", '"x"']) {
      expect(await raw("POST", `/api/v1/statuses/${id}/reblog`, body)).toBeLessThan(500);
    }
    expect(await raw("POST", `/api/v1/statuses/${id}/reblog`, "visibility[]=x", "application/x-www-form-urlencoded")).toBe(422);
    for (const query of ["limit=-5", "limit=abc", "max_id=1%27", "min_id=99999999999999999999999", "since_id[]=1", "limit=99999999999"]) {
      expect(await raw("GET", `/api/v1/favourites?${query}`)).toBeLessThan(500);
      expect(await raw("GET", `/api/v1/bookmarks?${query}`)).toBeLessThan(500);
    }
  });
});
