/**
 * Lists through the real web app: CRUD and validation, ownership (someone else's list is 404), scopes,
 * members (only followed accounts, all or none; unfollowing removes), members paging (limit=0 is all),
 * /api/v1/accounts/:id/lists, the list timeline with each replies_policy and its Link headers, exclusive lists
 * leaving the home timeline, hostile ids, and one real masto.js client. Usernames start with `ls_`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, findLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { postStatus } from "../../src/features/statuses/service";
import { rebuildHome } from "../../src/features/timelines/service";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);

let counter = 0;
let template: LocalAccountRow;
type User = LocalAccountRow & { token: string };

/** A confirmed local account with a read/write/follow token, copied from the template (keys are slow). */
async function user(name: string): Promise<User> {
  const username = `ls_${name}_${++counter}`;
  const uri = `${context.config.baseUrl}/users/${username}`;
  await context.sql.begin(async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into accounts (username, uri, url, public_key, private_key, inbox_url, shared_inbox_url)
      select ${username}, ${uri}, ${`${context.config.baseUrl}/@${username}`}, public_key, private_key, ${uri + "/inbox"}, shared_inbox_url
      from accounts where id = ${template.id} returning id`;
    await tx`insert into users (account_id, email, password_hash, role, locale, confirmed_at, approved)
      select ${row!.id}, ${`${username}@example.com`}, password_hash, 'User', 'en', now(), true from users where id = ${template.user.id}`;
  });
  const account = await findLocalAccount(context.sql, username);
  const { token } = await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write follow", description: "test" });
  return { ...account, token };
}

const as = (who: { token: string }) => ({
  get: (path: string) => call("GET", path, { token: who.token }),
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  form: (path: string, form: [string, string][]) => call("POST", path, { token: who.token, form }),
  put: (path: string, json: unknown = {}) => call("PUT", path, { token: who.token, json }),
  del: (path: string, json?: unknown) => call("DELETE", path, { token: who.token, json }),
});

const follow = async (who: User, whom: User) => expect((await as(who).post(`/api/v1/accounts/${whom.id}/follow`)).status).toBe(200);
const post = async (who: User, status: string, extra: { in_reply_to_id?: string; visibility?: string } = {}) =>
  (await postStatus(context, who, { status, ...extra })).statusId;

async function newList(owner: User, body: Record<string, unknown> = {}) {
  const created = await as(owner).post("/api/v1/lists", { title: "Friends", ...body });
  expect(created.status).toBe(200);
  return created.json as { id: string; title: string; replies_policy: string; exclusive: boolean };
}

async function listCount(owner: User): Promise<number> {
  const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from lists where account_id = ${owner.id}`;
  return row!.n;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  const username = `ls_template_${Date.now().toString(36)}`;
  template = (await createLocalAccount(context.sql, context.config, { username, email: `${username}@example.com`, password: "correct horse battery", confirmed: true })).account;
});

afterAll(async () => {
  await context.close();
});

describe("list CRUD", () => {
  test("create (JSON and form), show, index, update, delete — Mastodon's List entity", async () => {
    const me = await user("crud");
    const created = await newList(me, { title: "Cats" });
    expectMatchesSchema(created, "List");
    expect(created).toEqual({ id: created.id, title: "Cats", replies_policy: "list", exclusive: false });

    const fromForm = await as(me).form("/api/v1/lists", [["title", "Dogs"], ["replies_policy", "none"], ["exclusive", "true"]]);
    expect(fromForm.status).toBe(200);
    expect(fromForm.json).toMatchObject({ title: "Dogs", replies_policy: "none", exclusive: true });

    const shown = await as(me).get(`/api/v1/lists/${created.id}`);
    expect(shown.status).toBe(200);
    expect(shown.json).toEqual(created);

    const index = await as(me).get("/api/v1/lists");
    expect(index.status).toBe(200);
    expectMatchesSchema(index.json, arrayOf("List"));
    expect(index.json.map((l: { title: string }) => l.title)).toEqual(["Cats", "Dogs"]);

    const updated = await as(me).put(`/api/v1/lists/${created.id}`, { replies_policy: "followed", exclusive: true });
    expect(updated.status).toBe(200);
    expectMatchesSchema(updated.json, "List");
    expect(updated.json).toEqual({ id: created.id, title: "Cats", replies_policy: "followed", exclusive: true });
    const renamed = await as(me).put(`/api/v1/lists/${created.id}`, { title: "Kittens", exclusive: false });
    expect(renamed.json).toEqual({ id: created.id, title: "Kittens", replies_policy: "followed", exclusive: false });

    const deleted = await as(me).del(`/api/v1/lists/${created.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});
    expect((await as(me).get(`/api/v1/lists/${created.id}`)).status).toBe(404);
    expect((await as(me).del(`/api/v1/lists/${created.id}`)).status).toBe(404);
  });

  test("validation: blank or too long title, unknown replies_policy → 422, nothing written", async () => {
    const me = await user("valid");
    for (const body of [{}, { title: "" }, { title: "   " }]) {
      const answer = await as(me).post("/api/v1/lists", body);
      expect(answer.status).toBe(422);
      expect(answer.json).toEqual({ error: "Validation failed: Title can't be blank" });
    }
    const long = await as(me).post("/api/v1/lists", { title: "x".repeat(257) });
    expect(long.status).toBe(422);
    expect(long.json.error).toBe("Validation failed: Title is too long (maximum is 256 characters)");
    const policy = await as(me).post("/api/v1/lists", { title: "ok", replies_policy: "everyone" });
    expect(policy.status).toBe(422);
    expect(policy.json.error).toBe("Validation failed: Replies policy is not included in the list");
    expect(await listCount(me)).toBe(0);

    const list = await newList(me, { title: "é".repeat(256) });
    expect(list.title).toBe("é".repeat(256));
    expect((await as(me).put(`/api/v1/lists/${list.id}`, { title: " " })).status).toBe(422);
    expect((await as(me).put(`/api/v1/lists/${list.id}`, { replies_policy: "all" })).status).toBe(422);
    expect((await as(me).put(`/api/v1/lists/${list.id}`, { exclusive: "maybe" })).status).toBeGreaterThanOrEqual(400);
    expect((await as(me).get(`/api/v1/lists/${list.id}`)).json).toEqual(list);
  });

  test("at most 50 lists per account (Mastodon's List::PER_ACCOUNT_LIMIT)", async () => {
    const me = await user("many");
    await Promise.all(Array.from({ length: 50 }, (_, i) => as(me).post("/api/v1/lists", { title: `list ${i}` })));
    expect(await listCount(me)).toBe(50);
    const refused = await as(me).post("/api/v1/lists", { title: "one too many" });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toBe("Validation failed: You have reached the maximum number of lists");
    expect(await listCount(me)).toBe(50);
  });

  test("someone else's list is 404 everywhere; hostile ids are 404", async () => {
    const owner = await user("owner");
    const other = await user("other");
    const list = await newList(owner);
    const paths = [`/api/v1/lists/${list.id}`, `/api/v1/lists/${list.id}/accounts`, `/api/v1/timelines/list/${list.id}`];
    for (const path of paths) expect((await as(other).get(path)).status).toBe(404);
    expect((await as(other).put(`/api/v1/lists/${list.id}`, { title: "mine" })).status).toBe(404);
    expect((await as(other).del(`/api/v1/lists/${list.id}`)).status).toBe(404);
    expect((await as(other).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [owner.id] })).status).toBe(404);
    expect((await as(other).del(`/api/v1/lists/${list.id}/accounts`, { account_ids: [owner.id] })).status).toBe(404);
    expect((await as(other).get("/api/v1/lists")).json).toEqual([]);
    expect((await as(owner).get(`/api/v1/lists/${list.id}`)).json.title).toBe("Friends");

    for (const id of ["abc", "-1", "0", "99999999999999999999", "1%20or%201=1", "1e3", "%00"]) {
      expect((await as(owner).get(`/api/v1/lists/${id}`)).status).toBe(404);
      expect((await as(owner).get(`/api/v1/timelines/list/${id}`)).status).toBe(404);
      expect((await as(owner).get(`/api/v1/accounts/${id}/lists`)).status).toBe(404);
    }
    expect((await as(owner).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: ["abc"] })).status).toBe(404);
    expect((await as(owner).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: ["99999999999999999999"] })).status).toBe(404);
    expect((await as(owner).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: { a: 1 } })).status).toBeGreaterThanOrEqual(400);
    expect((await as(owner).get(`/api/v1/timelines/list/${list.id}?max_id=abc`)).status).toBe(400);
    expect((await as(owner).get(`/api/v1/timelines/list/${list.id}?limit=-1`)).status).toBe(400);
  });

  test("scopes: read:lists reads, write:lists writes; no token is 401", async () => {
    const me = await user("scopes");
    const list = await newList(me);
    const { token: readOnly } = await issueToken(context.sql, { userId: me.user.id, applicationId: null, scopes: "read:lists", description: "test" });
    const { token: writeOnly } = await issueToken(context.sql, { userId: me.user.id, applicationId: null, scopes: "write:lists", description: "test" });
    const { token: statuses } = await issueToken(context.sql, { userId: me.user.id, applicationId: null, scopes: "read:statuses write:statuses", description: "test" });
    expect((await as({ token: readOnly }).get("/api/v1/lists")).status).toBe(200);
    expect((await as({ token: readOnly }).get(`/api/v1/timelines/list/${list.id}`)).status).toBe(200);
    expect((await as({ token: readOnly }).post("/api/v1/lists", { title: "no" })).status).toBe(403);
    expect((await as({ token: writeOnly }).post("/api/v1/lists", { title: "yes" })).status).toBe(200);
    expect((await as({ token: writeOnly }).get("/api/v1/lists")).status).toBe(403);
    expect((await as({ token: statuses }).get("/api/v1/lists")).status).toBe(403);
    expect((await as({ token: statuses }).post("/api/v1/lists", { title: "no" })).status).toBe(403);
    expect((await call("GET", "/api/v1/lists")).status).toBe(401);
    expect((await call("GET", `/api/v1/timelines/list/${list.id}`)).status).toBe(401);
  });
});

describe("members", () => {
  test("only followed accounts, all or none; duplicates 422; unknown 404; remove; unfollow removes", async () => {
    const me = await user("members");
    const friend = await user("friend");
    const pal = await user("pal");
    const stranger = await user("stranger");
    await follow(me, friend);
    await follow(me, pal);
    const list = await newList(me);
    const members = async () => (await as(me).get(`/api/v1/lists/${list.id}/accounts`)).json.map((a: { id: string }) => a.id);

    const refused = await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [friend.id, stranger.id] });
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatch(/^Validation failed: /);
    expect(await members()).toEqual([]);
    const self = await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [me.id] });
    expect(self.status).toBe(422);

    const added = await as(me).form(`/api/v1/lists/${list.id}/accounts`, [["account_ids[]", friend.id], ["account_ids[]", pal.id]]);
    expect(added.status).toBe(200);
    expect(added.json).toEqual({});
    const page = await as(me).get(`/api/v1/lists/${list.id}/accounts`);
    expectMatchesSchema(page.json, arrayOf("Account"));
    expect(page.json.map((a: { id: string }) => a.id)).toEqual([pal.id, friend.id]);

    expect((await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [friend.id] })).status).toBe(422);
    expect((await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [] })).status).toBe(200);

    const lists = await as(me).get(`/api/v1/accounts/${friend.id}/lists`);
    expect(lists.status).toBe(200);
    expectMatchesSchema(lists.json, arrayOf("List"));
    expect(lists.json).toEqual([list]);
    expect((await as(me).get(`/api/v1/accounts/${stranger.id}/lists`)).json).toEqual([]);
    // Only the caller's own lists: the friend sees none of mine.
    expect((await as(friend).get(`/api/v1/accounts/${friend.id}/lists`)).json).toEqual([]);

    const removed = await as(me).del(`/api/v1/lists/${list.id}/accounts`, { account_ids: [pal.id, stranger.id] });
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({});
    expect(await members()).toEqual([friend.id]);
    // Query-string ids are accepted too (as Rails reads params from either).
    await as(me).post(`/api/v1/lists/${list.id}/accounts?account_ids[]=${pal.id}`);
    expect(await members()).toEqual([pal.id, friend.id]);

    expect((await as(me).post(`/api/v1/accounts/${friend.id}/unfollow`)).status).toBe(200);
    expect(await members()).toEqual([pal.id]);
    expect((await as(me).get(`/api/v1/accounts/${friend.id}/lists`)).json).toEqual([]);

    // Deleting the list takes its members with it.
    await as(me).del(`/api/v1/lists/${list.id}`);
    const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from list_accounts where list_id = ${list.id}`;
    expect(row!.n).toBe(0);
  });

  test("a block ends the follow, and with it the membership", async () => {
    const me = await user("blocker");
    const them = await user("blocked");
    await follow(me, them);
    const list = await newList(me);
    expect((await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [them.id] })).status).toBe(200);
    expect((await as(me).post(`/api/v1/accounts/${them.id}/block`)).status).toBe(200);
    expect((await as(me).get(`/api/v1/lists/${list.id}/accounts`)).json).toEqual([]);
  });

  test("members are paged with Link headers; limit=0 means all, without a Link", async () => {
    const me = await user("paging");
    const list = await newList(me);
    const people: User[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await user(`m${i}`);
      await follow(me, p);
      people.push(p);
    }
    expect((await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: people.map((p) => p.id) })).status).toBe(200);
    const seen: string[] = [];
    let path: string | undefined = `/api/v1/lists/${list.id}/accounts?limit=2`;
    for (let guard = 0; path && guard < 10; guard++) {
      const page = await as(me).get(path);
      expect(page.status).toBe(200);
      if (page.json.length === 0) break;
      expect(page.json.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.map((a: { id: string }) => a.id));
      const link = page.headers.get("link");
      expect(link).toContain('rel="prev"');
      const next = /<([^>]+)>; rel="next"/.exec(link ?? "")?.[1];
      path = next ? next.replace(context.config.baseUrl, "") : undefined;
    }
    expect(seen.sort()).toEqual(people.map((p) => p.id).sort());
    const all = await as(me).get(`/api/v1/lists/${list.id}/accounts?limit=0`);
    expect(all.json.length).toBe(5);
    expect(all.headers.get("link")).toBeNull();
  });
});

describe("list timeline", () => {
  test("members' posts only, newest first; replies per replies_policy; paged with Link headers", async () => {
    const me = await user("reader");
    const member = await user("member");
    const member2 = await user("member2");
    const followed = await user("followed");
    const unfollowed = await user("unfollowed");
    for (const who of [member, member2, followed]) await follow(me, who);
    const list = await newList(me, { replies_policy: "list" });
    await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [member.id, member2.id] });

    const root = await post(member, "root");
    const offList = await post(followed, "not on the list");
    const other = await post(unfollowed, "stranger's post");
    const toSelf = await post(member, "thread", { in_reply_to_id: root });
    const toMember = await post(member2, "reply to a member", { in_reply_to_id: root });
    const toFollowed = await post(member, "reply to a followed account", { in_reply_to_id: offList });
    const toStranger = await post(member, "reply to a stranger", { in_reply_to_id: other });
    const toMe = await post(member, "reply to the owner", { in_reply_to_id: await post(me, "mine") });
    const privatePost = await post(member, "followers only", { visibility: "private" });
    const direct = await post(member, `@${me.username} direct`, { visibility: "direct" });

    const ids = async () => {
      const answer = await as(me).get(`/api/v1/timelines/list/${list.id}?limit=40`);
      expect(answer.status).toBe(200);
      return answer.json.map((s: { id: string }) => s.id);
    };
    const everyone = [privatePost, toMe, toStranger, toFollowed, toMember, toSelf, root];
    const without = (...drop: string[]) => everyone.filter((id) => !drop.includes(id));
    expect(await ids()).toEqual(without(toStranger, toFollowed));
    expect(await ids()).not.toContain(direct);
    expect(await ids()).not.toContain(offList);

    await as(me).put(`/api/v1/lists/${list.id}`, { replies_policy: "followed" });
    expect(await ids()).toEqual(without(toStranger));
    await as(me).put(`/api/v1/lists/${list.id}`, { replies_policy: "none" });
    expect(await ids()).toEqual(without(toStranger, toFollowed, toMember));

    const first = await as(me).get(`/api/v1/timelines/list/${list.id}?limit=2`);
    expectMatchesSchema(first.json, arrayOf("Status"));
    const expected = without(toStranger, toFollowed, toMember);
    expect(first.json.map((s: { id: string }) => s.id)).toEqual(expected.slice(0, 2));
    const base = `${context.config.baseUrl}/api/v1/timelines/list/${list.id}`;
    expect(first.headers.get("link")).toBe(`<${base}?limit=2&max_id=${expected[1]}>; rel="next", <${base}?limit=2&min_id=${expected[0]}>; rel="prev"`);
    const second = await as(me).get(`/api/v1/timelines/list/${list.id}?limit=2&max_id=${expected[1]}`);
    expect(second.json.map((s: { id: string }) => s.id)).toEqual(expected.slice(2, 4));
    const back = await as(me).get(`/api/v1/timelines/list/${list.id}?limit=2&min_id=${expected[3]}`);
    expect(back.json.map((s: { id: string }) => s.id)).toEqual(expected.slice(1, 3));
    const empty = await as(me).get(`/api/v1/timelines/list/${list.id}?max_id=${expected.at(-1)}`);
    expect(empty.json).toEqual([]);
    expect(empty.headers.get("link")).toBeNull();

    // A muted member leaves the list timeline; unfollowing takes the member off entirely.
    await as(me).post(`/api/v1/accounts/${member2.id}/mute`);
    await as(me).put(`/api/v1/lists/${list.id}`, { replies_policy: "list" });
    expect(await ids()).not.toContain(toMember);
    await as(me).post(`/api/v1/accounts/${member.id}/unfollow`);
    expect(await ids()).toEqual([]);
  });

  test("an exclusive list hides its members' posts from home; a plain one does not", async () => {
    const me = await user("home");
    const member = await user("excl");
    const friend = await user("homefriend");
    await follow(me, member);
    await follow(me, friend);
    const memberPost = await post(member, "in the list");
    const friendPost = await post(friend, "in home");
    const mine = await post(me, "my own");
    const home = async () => {
      await rebuildHome(context, me.id, true);
      const answer = await as(me).get("/api/v1/timelines/home?limit=40");
      expect(answer.status).toBe(200);
      return answer.json.map((s: { id: string }) => s.id);
    };
    const list = await newList(me);
    await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [member.id, friend.id] });
    expect(await home()).toEqual([mine, friendPost, memberPost]);
    await as(me).put(`/api/v1/lists/${list.id}`, { exclusive: true });
    await as(me).del(`/api/v1/lists/${list.id}/accounts`, { account_ids: [friend.id] });
    expect(await home()).toEqual([mine, friendPost]);
    const timeline = await as(me).get(`/api/v1/timelines/list/${list.id}`);
    expect(timeline.json.map((s: { id: string }) => s.id)).toEqual([memberPost]);
    await as(me).put(`/api/v1/lists/${list.id}`, { exclusive: false });
    expect(await home()).toEqual([mine, friendPost, memberPost]);
  });
});

describe("masto.js", () => {
  test("create a list and add a member through the real client", async () => {
    const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const me = await user("masto_me");
      const them = await user("masto_them");
      await follow(me, them);
      const client = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: me.token });
      const list = await client.v1.lists.create({ title: "Via masto", exclusive: true });
      expect(list).toMatchObject({ title: "Via masto", repliesPolicy: "list", exclusive: true });
      await client.v1.lists.$select(list.id).accounts.create({ accountIds: [them.id] });
      const accounts = await client.v1.lists.$select(list.id).accounts.list();
      expect(accounts.map((a) => a.id)).toEqual([them.id]);
      const lists = await client.v1.lists.list();
      expect(lists.map((l) => l.id)).toEqual([list.id]);
      await client.v1.lists.$select(list.id).accounts.remove({ accountIds: [them.id] });
      expect(await client.v1.lists.$select(list.id).accounts.list()).toEqual([]);
      await client.v1.lists.$select(list.id).remove();
      expect(await client.v1.lists.list()).toEqual([]);
    } finally {
      await web.stop(true);
    }
  });
});
