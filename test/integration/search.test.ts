/**
 * Search: /api/v2/search and /api/v1/accounts/search. Full text over Postgres (language-aware stemming),
 * limited to what the searcher may see and to what Mastodon makes searchable (own posts, interactions,
 * public posts of indexable accounts); the query operators; hostile input; and the real clients (masto.js,
 * megalodon) against a listening server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { refreshTrends } from "../../src/features/trends/service";
import { inProcessApi } from "../helpers/api";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { startFedifyPeer } from "../helpers/fedify-peer";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);

interface User {
  account: LocalAccountRow;
  token: string;
}
const u: Record<string, User> = {};

async function make(name: string, options: { indexable?: boolean; displayName?: string } = {}): Promise<User> {
  const { account, token } = await makeTestUser(context, `se_${name}`, { scopes: "read write follow" });
  const user = { account, token: token! };
  const changes: Record<string, unknown> = {};
  if (options.indexable !== undefined) changes.indexable = options.indexable;
  if (options.displayName !== undefined) changes.display_name = options.displayName;
  if (Object.keys(changes).length) expect((await call("PATCH", "/api/v1/accounts/update_credentials", { token: user.token, json: changes })).status).toBe(200);
  return (u[name] = user);
}

async function post(user: User, json: Record<string, unknown>): Promise<string> {
  const response = await call("POST", "/api/v1/statuses", { token: user.token, json });
  expect(response.status).toBe(200);
  return response.json.id;
}

async function search(params: Record<string, string>, token?: string) {
  return call("GET", `/api/v2/search?${new URLSearchParams(params)}`, { token });
}

async function statusIds(q: string, user: User, extra: Record<string, string> = {}): Promise<string[]> {
  const response = await search({ q, type: "statuses", ...extra }, user.token);
  expect(response.status).toBe(200);
  return response.json.statuses.map((s: { id: string }) => s.id);
}

const ids: Record<string, string> = {} as Record<string, string>;

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  await make("author", { indexable: true, displayName: "Ada Lovelace" });
  await make("quiet", { indexable: false, displayName: "Quiet Person" });
  await make("reader");
  await make("friend");
  await make("other");

  ids.running = await post(u.author!, { status: "The dogs were running along the riverbank zanzibar", language: "en" });
  ids.german = await post(u.author!, { status: "Die Häuser am Fluss sind alt zanzibar", language: "de" });
  ids.poll = await post(u.author!, { status: "Which zanzibar flavour?", language: "en", poll: { options: ["one", "two"], expires_in: 3600 } });
  ids.link = await post(u.author!, { status: "Read about zanzibar at https://example.com/zanzibar", language: "en" });
  ids.reply = await post(u.author!, { status: "A reply about zanzibar", language: "en", in_reply_to_id: ids.running });
  ids.sensitive = await post(u.author!, { status: "Spicy zanzibar", language: "en", sensitive: true, spoiler_text: "food" });
  ids.privateByAuthor = await post(u.author!, { status: "secret zanzibar plans", visibility: "private", language: "en" });
  ids.quietPublic = await post(u.quiet!, { status: "quiet zanzibar thoughts", language: "en" });
  ids.quietFaved = await post(u.quiet!, { status: "quiet marmalade musings", language: "en" });
  ids.dmToReader = await post(u.quiet!, { status: "@se_reader psst zanzibar direct", visibility: "direct", language: "en" });
  ids.readerOwnPrivate = await post(u.reader!, { status: "my own private zanzibar diary", visibility: "private", language: "en" });
  expect((await call("POST", `/api/v1/statuses/${ids.quietFaved}/favourite`, { token: u.reader!.token })).status).toBe(200);
});

afterAll(async () => {
  await context.close();
});

describe("status full-text search", () => {
  test("finds a post by a word in it, and by a stemmed form in its language", async () => {
    expect(await statusIds("riverbank", u.reader!)).toEqual([ids.running!]);
    // "runs" and "running" share the English stem "run"; the post never says "runs".
    expect(await statusIds("runs", u.reader!)).toEqual([ids.running!]);
    expect(await statusIds("RIVERBANKS", u.reader!)).toEqual([ids.running!]);
    // German stemming: "Haus" finds "Häuser" in a post written in German (the query's language named).
    expect(await statusIds("haus language:de", u.reader!)).toEqual([ids.german!]);
    // The exact word always matches, whatever language the searcher speaks.
    expect(await statusIds("häuser", u.reader!)).toEqual([ids.german!]);
  });

  test("results are Mastodon Search entities, newest first", async () => {
    const response = await search({ q: "zanzibar" }, u.reader!.token);
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "Search");
    const found = response.json.statuses.map((s: { id: string }) => s.id);
    expect(found).toEqual([...found].sort((a: string, b: string) => (BigInt(b) > BigInt(a) ? 1 : -1)));
  });

  test("never finds someone else's private post or a non-indexable account's public post", async () => {
    const found = await statusIds("zanzibar", u.other!);
    expect(found).not.toContain(ids.privateByAuthor!);
    expect(found).not.toContain(ids.quietPublic!);
    expect(found).not.toContain(ids.dmToReader!);
    expect(found).not.toContain(ids.readerOwnPrivate!);
    expect(found).toContain(ids.running!);
    // A follower may see the followers-only post, but it is not searchable for them (not theirs, no
    // interaction): Mastodon's searchable_by does not include followers.
    await call("POST", `/api/v1/accounts/${u.author!.account.id}/follow`, { token: u.friend!.token });
    expect(await statusIds("secret", u.friend!)).toEqual([]);
  });

  test("finds the searcher's own posts, posts they were mentioned in and posts they favourited", async () => {
    const found = await statusIds("zanzibar", u.reader!);
    expect(found).toContain(ids.readerOwnPrivate!);
    expect(found).toContain(ids.dmToReader!);
    expect(found).not.toContain(ids.quietPublic!);
    expect(await statusIds("marmalade", u.reader!)).toEqual([ids.quietFaved!]);
    expect(await statusIds("marmalade", u.other!)).toEqual([]);
    // in:library leaves out the public posts of strangers
    const library = await statusIds("zanzibar in:library", u.reader!);
    expect(library.sort()).toEqual([ids.readerOwnPrivate!, ids.dmToReader!].sort());
  });

  test("a blocked author's posts are not found", async () => {
    expect((await call("POST", `/api/v1/accounts/${u.author!.account.id}/block`, { token: u.other!.token })).status).toBe(200);
    expect(await statusIds("riverbank", u.other!)).toEqual([]);
    expect((await call("POST", `/api/v1/accounts/${u.author!.account.id}/unblock`, { token: u.other!.token })).status).toBe(200);
    expect(await statusIds("riverbank", u.other!)).toEqual([ids.running!]);
  });

  test("operators: from, has, is, language, dates, negation, phrases", async () => {
    const r = u.reader!;
    expect(await statusIds("zanzibar from:@se_quiet", r)).toEqual([ids.dmToReader!]);
    expect(await statusIds("from:se_author has:poll", r)).toEqual([ids.poll!]);
    expect(await statusIds("zanzibar has:link", r)).toEqual([ids.link!]);
    expect(await statusIds("zanzibar is:reply", r)).toEqual([ids.reply!]);
    expect(await statusIds("zanzibar is:sensitive", r)).toEqual([ids.sensitive!]);
    expect(await statusIds("zanzibar from:se_author language:de", r)).toEqual([ids.german!]);
    const all = await statusIds("zanzibar from:se_author", r);
    expect(await statusIds("zanzibar from:se_author -is:reply", r)).toEqual(all.filter((id) => id !== ids.reply));
    expect(await statusIds("zanzibar from:se_author -riverbank", r)).toEqual(all.filter((id) => id !== ids.running));
    expect(await statusIds('"along the riverbank"', r)).toEqual([ids.running!]);
    expect(await statusIds('"riverbank along"', r)).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await statusIds(`riverbank during:${today}`, r)).toEqual([ids.running!]);
    expect(await statusIds(`riverbank before:${today}`, r)).toEqual([]);
    expect(await statusIds(`riverbank after:2000-01-01`, r)).toEqual([ids.running!]);
    expect(await statusIds(`riverbank after:${today}`, r)).toEqual([]);
    expect(await statusIds("diary from:me", r)).toEqual([ids.readerOwnPrivate!]);
    expect(await statusIds("zanzibar from:@nobody_here", r)).toEqual([]);
    // account_id narrows to one author
    expect(await statusIds("zanzibar", r, { account_id: u.quiet!.account.id })).toEqual([ids.dmToReader!]);
    // offset and limit page through the results
    const first = await statusIds("zanzibar from:se_author", r, { limit: "2" });
    const second = await statusIds("zanzibar from:se_author", r, { limit: "2", offset: "2" });
    expect(first.length).toBe(2);
    expect([...first, ...second]).toEqual(all.slice(0, 4));
  });

  test("bad input is a 4xx (or nothing found), never a 500", async () => {
    const t = u.reader!.token;
    expect((await search({ q: "x".repeat(501) }, t)).status).toBe(422);
    expect((await search({ q: "zanzibar", type: "statuses", offset: "-1" }, t)).status).toBe(400);
    expect((await search({ q: "zanzibar", type: "statuses", offset: "abc" }, t)).status).toBe(400);
    expect((await search({ q: "zanzibar", type: "statuses", offset: "999999" }, t)).status).toBe(400);
    expect((await search({ q: "zanzibar", limit: "-3" }, t)).status).toBe(400);
    expect((await search({ q: "" }, t)).status).toBe(400);
    expect((await search({ q: "zanzibar", type: "bogus" }, t)).status).toBe(422);
    expect((await search({ q: "zanzibar before:2020-13-45" }, t)).status).toBe(422);
    expect((await search({ q: "zanzibar has:nothing" }, t)).status).toBe(422);
    expect((await search({ q: "zanzibar", account_id: "abc" }, t)).status).toBe(404);
    // Without a token: offset and resolve are refused, statuses are never searched.
    expect((await search({ q: "zanzibar", type: "statuses", offset: "1" })).status).toBe(401);
    expect((await search({ q: "zanzibar", resolve: "true" })).status).toBe(401);
    const anonymous = await search({ q: "riverbank" });
    expect(anonymous.status).toBe(200);
    expect(anonymous.json.statuses).toEqual([]);
    // tsquery and regex syntax are just text
    for (const q of ["((((((((((", ":*&|!", "a:* | !b", "\\", "'", '"', "-", "- - -", "or", "-zanzibar", "!!!", "zanzibar & | :*", "\u0000zanzibar"]) {
      const response = await search({ q }, t);
      expect([200, 400]).toContain(response.status);
    }
    // Only negations would read every row: nothing is found rather than a table scan.
    expect(await statusIds("-riverbank", u.reader!)).toEqual([]);
    // An over-long limit is clamped to 40.
    expect((await search({ q: "zanzibar", limit: "1000" }, t)).status).toBe(200);
  });

  test("newest first across time: posts of today, last week, last month and years ago, paged by offset", async () => {
    // Posts from the past (as a remote server's backlog would arrive): ids are time-sortable, ms << 16.
    const ago = (days: number) => ((BigInt(Date.now() - days * 24 * 3600 * 1000) << 16n) + 7n).toString();
    const old: string[] = [];
    for (const days of [400, 30, 3]) {
      const id = ago(days);
      await context.sql`insert into statuses (id, account_id, content, visibility, language, created_at)
        values (${id}, ${u.author!.account.id}, '<p>chronoquest from the past</p>', 'public', 'en', now() - make_interval(days => ${days}))`;
      old.push(id);
    }
    const today = await post(u.author!, { status: "chronoquest today", language: "en" });
    const expected = [today, ...old.reverse()];
    expect(await statusIds("chronoquest", u.reader!)).toEqual(expected);
    for (let offset = 0; offset < 4; offset++) expect(await statusIds("chronoquest", u.reader!, { limit: "1", offset: String(offset) })).toEqual([expected[offset]!]);
    expect(await statusIds("chronoquest", u.reader!, { limit: "2", offset: "1" })).toEqual(expected.slice(1, 3));
    // max_id / min_id bound the walk
    expect(await statusIds("chronoquest", u.reader!, { max_id: expected[1]! })).toEqual(expected.slice(2));
    expect(await statusIds("chronoquest", u.reader!, { min_id: expected[2]! })).toEqual(expected.slice(0, 2));
  });

  test("a post's URL finds that post when the searcher may see it", async () => {
    const running = (await call("GET", `/api/v1/statuses/${ids.running}`, { token: u.reader!.token })).json;
    const byUrl = await search({ q: running.url }, u.reader!.token);
    expect(byUrl.json.statuses.map((s: { id: string }) => s.id)).toEqual([ids.running!]);
    const secret = (await call("GET", `/api/v1/statuses/${ids.privateByAuthor}`, { token: u.author!.token })).json;
    expect((await search({ q: secret.uri }, u.other!.token)).json.statuses).toEqual([]);
  });
});

describe("account and hashtag search", () => {
  test("accounts by username prefix, display-name word and handle; followed first", async () => {
    const byPrefix = await search({ q: "se_qui", type: "accounts" }, u.reader!.token);
    expect(byPrefix.status).toBe(200);
    expect(byPrefix.json.accounts.map((a: { username: string }) => a.username)).toEqual(["se_quiet"]);
    const byName = await search({ q: "lovel", type: "accounts" });
    expect(byName.json.accounts.map((a: { username: string }) => a.username)).toEqual(["se_author"]);
    const byHandle = await search({ q: `@se_author@${context.config.localDomain}`, type: "accounts" });
    expect(byHandle.json.accounts.map((a: { username: string }) => a.username)).toEqual(["se_author"]);

    // quiet has two followers, author one (friend): strangers see quiet first, friend sees the account it follows first.
    expect((await call("POST", `/api/v1/accounts/${u.author!.account.id}/follow`, { token: u.friend!.token })).status).toBe(200);
    for (const who of [u.reader!, u.other!]) expect((await call("POST", `/api/v1/accounts/${u.quiet!.account.id}/follow`, { token: who.token })).status).toBe(200);
    // Other test files' accounts share the "se" prefix: look at the order of this file's accounts only.
    const ours = (list: { username: string }[]) => list.map((a) => a.username).filter((n) => Object.keys(u).some((k) => n === `se_${k}`));
    const forStranger = await call("GET", "/api/v1/accounts/search?q=se&limit=80", { token: u.author!.token });
    expect(ours(forStranger.json).slice(0, 2)).toEqual(["se_quiet", "se_author"]);
    const ranked = await call("GET", "/api/v1/accounts/search?q=se&limit=80", { token: u.friend!.token });
    expect(ranked.status).toBe(200);
    // followed first: ahead of everyone, not only of this file's accounts
    expect(ranked.json[0].username).toBe("se_author");
    expect(ours(ranked.json).slice(0, 2)).toEqual(["se_author", "se_quiet"]);
    expectMatchesSchema(ranked.json, { type: "array", items: { $ref: "#/components/schemas/Account" } });
    const following = await call("GET", "/api/v1/accounts/search?q=se&following=true", { token: u.friend!.token });
    expect(following.json.map((a: { username: string }) => a.username)).toEqual(["se_author"]);
    const paged = await call("GET", "/api/v1/accounts/search?q=se&limit=2&offset=1", { token: u.friend!.token });
    expect(paged.json.map((a: { id: string }) => a.id)).toEqual(ranked.json.slice(1, 3).map((a: { id: string }) => a.id));
    // accounts/search needs a user
    expect((await call("GET", "/api/v1/accounts/search?q=se")).status).toBe(401);
    expect((await call("GET", "/api/v1/accounts/search?q=se&offset=-1", { token: u.friend!.token })).status).toBe(400);
    // LIKE and tsquery syntax, odd handles and odd letters are just text
    for (const q of ["@", "@@", "a@b@c", "%", "_", "se_%", "\\", "ǅ½", ":*", "se_author@%", "se:* | x", "@se_author@"]) {
      const response = await call("GET", `/api/v1/accounts/search?q=${encodeURIComponent(q)}`, { token: u.friend!.token });
      expect(response.status).toBe(200);
      expect(Array.isArray(response.json)).toBe(true);
    }
    expect((await call("GET", `/api/v1/accounts/search?q=@se_author@`, { token: u.friend!.token })).json[0].username).toBe("se_author");
    expect((await call("GET", `/api/v1/accounts/search?q=se_author@elsewhere.example`, { token: u.friend!.token })).json).toEqual([]);
    expect((await call("GET", `/api/v1/accounts/search?q=${"x".repeat(501)}`, { token: u.friend!.token })).status).toBe(422);
    // and does not shadow /api/v1/accounts/:id
    expect((await call("GET", `/api/v1/accounts/${u.author!.account.id}`)).json.username).toBe("se_author");
  });

  test("hashtags by prefix, with a week of history", async () => {
    await post(u.author!, { status: "#SeCoffee time", language: "en" });
    await post(u.quiet!, { status: "#secoffee again", language: "en" });
    await post(u.author!, { status: "#SeCoffeeBeans", language: "en" });
    await refreshTrends(context);
    const response = await search({ q: "#secof", type: "hashtags" });
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, "Search");
    expect(response.json.hashtags.map((t: { name: string }) => t.name)).toEqual(["SeCoffee", "SeCoffeeBeans"]);
    const history = response.json.hashtags[0].history;
    expect(history.length).toBe(7);
    expect(history[0]).toEqual({ day: String(Date.parse(new Date().toISOString().slice(0, 10)) / 1000), uses: "2", accounts: "2" });
    expect(history.slice(1).every((h: { uses: string }) => h.uses === "0")).toBe(true);
  });
});

describe("real clients", () => {
  test("masto.js and megalodon search", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const url = `http://127.0.0.1:${server.server!.port}`;
      const masto = createRestAPIClient({ url, accessToken: u.reader!.token });
      const result = await masto.v2.search.list({ q: "riverbank", type: "statuses" });
      expect(result.statuses.map((s) => s.id)).toEqual([ids.running!]);
      const accounts = await masto.v1.accounts.search.list({ q: "se_auth" });
      expect(accounts.map((a) => a.username)).toEqual(["se_author"]);

      const megalodon = generator("mastodon", url, u.other!.token);
      const found = await megalodon.search("zanzibar", { type: "statuses" });
      expect(found.data.statuses.map((s) => s.id)).not.toContain(ids.privateByAuthor!);
      expect(found.data.statuses.map((s) => s.id)).toContain(ids.running!);
      const accounts2 = await megalodon.searchAccount("se_quie", { limit: 5 });
      expect(accounts2.data.map((a) => a.username)).toEqual(["se_quiet"]);
    } finally {
      server.stop(true);
    }
  });
});

describe("resolve=true: remote accounts through federation", () => {
  test("a remote handle or actor URL is looked up on its server (a loopback Fedify peer)", async () => {
    let remoteApp: ReturnType<typeof buildWebApp> | undefined;
    const ours = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => remoteApp!.handle(request) });
    const fedContext = await testContext({ LOCAL_DOMAIN: `127.0.0.1:${ours.port}`, LOCAL_HTTPS: "false", ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" });
    remoteApp = buildWebApp(fedContext);
    const peer = await startFedifyPeer({ users: ["se_far", "se_farther"] });
    try {
      const { token } = await makeTestUser(fedContext, "se_resolver", { scopes: "read" });
      const ask = async (q: string, resolve: boolean) => {
        const response = await remoteApp!.handle(
          new Request(`http://localhost/api/v2/search?${new URLSearchParams({ q, type: "accounts", resolve: String(resolve) })}`, { headers: { authorization: `Bearer ${token}` } }),
        );
        expect(response.status).toBe(200);
        return ((await response.json()) as { accounts: { acct: string }[] }).accounts.map((a) => a.acct);
      };
      const handle = `se_far@${peer.host}`;
      expect(await ask(`@${handle}`, false)).toEqual([]);
      expect(await ask(`@${handle}`, true)).toEqual([handle]);
      // now known: found without resolving, by handle and by name prefix
      expect(await ask(handle, false)).toEqual([handle]);
      expect(await ask(peer.actorUri("se_farther"), true)).toEqual([`se_farther@${peer.host}`]);
      // an unknown account on the peer, or a server that is not there: nothing, not an error
      expect(await ask(`@se_nobody@${peer.host}`, true)).toEqual([]);
      expect(await ask("@someone@127.0.0.1:1", true)).toEqual([]);
    } finally {
      peer.close();
      ours.stop(true);
      await fedContext.close();
    }
  });
});

describe("woolly admin search rebuild", () => {
  test("rebuilds the indexes, and search answers the same afterwards", async () => {
    const before = await statusIds("zanzibar", u.reader!);
    const { code, stdout, stderr } = await runWoolly(["admin", "search", "rebuild"]);
    expect(stderr).toContain("rebuilding statuses_search");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^statuses_search: [\d.]+ MB$/m);
    expect(stdout).toMatch(/^accounts_search: [\d.]+ MB$/m);
    expect(await statusIds("zanzibar", u.reader!)).toEqual(before);
  });
});
