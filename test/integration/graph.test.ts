/**
 * The social graph through the real web app: follow / unfollow with options, locked accounts and follow
 * requests, blocks cutting follows both ways, mutes with expiry, relationships and familiar followers,
 * followers / following paging (Link headers, no gaps or repeats with inserts between pages), endorsements,
 * notes, user-level domain blocks, followed tags, account statuses, hostile ids. One real masto.js client
 * does follow and relationships against a listening server. Usernames start with `gr_` (shared database).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient, MastoHttpError } from "masto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, findLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { eventSchema } from "../../src/features/events/publish";
import { postStatus } from "../../src/features/statuses/service";
import { defineJob } from "../../src/infra/queues/registry";
import { SUBSCRIBERS } from "../../src/events";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const tokens = new Map<string, string>();

const call = inProcessApi(() => app);

let counter = 0;
let template: LocalAccountRow;

/**
 * A confirmed local account with a read/write/follow token. Key generation and password hashing are slow, so
 * every account after the first (made the real way) is a copy of it with its own name.
 */
async function user(name: string, options: { locked?: boolean; hideCollections?: boolean } = {}): Promise<LocalAccountRow & { token: string }> {
  const username = `gr_${name}_${++counter}`;
  const uri = `${context.config.baseUrl}/users/${username}`;
  await context.sql.begin(async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      insert into accounts (username, uri, url, public_key, private_key, inbox_url, shared_inbox_url, locked, hide_collections)
      select ${username}, ${uri}, ${`${context.config.baseUrl}/@${username}`}, public_key, private_key, ${uri + "/inbox"}, shared_inbox_url,
             ${options.locked ?? false}, ${options.hideCollections ?? false}
      from accounts where id = ${template.id} returning id`;
    await tx`insert into users (account_id, email, password_hash, role, locale, confirmed_at, approved)
      select ${row!.id}, ${`${username}@example.com`}, password_hash, 'User', 'en', now(), true from users where id = ${template.user.id}`;
  });
  const account = await findLocalAccount(context.sql, username);
  const { token } = await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write follow", description: "test" });
  tokens.set(account.id, token);
  return { ...account, token };
}

const as = (who: { token: string }) => ({
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  get: (path: string) => call("GET", path, { token: who.token }),
  del: (path: string, json: unknown = {}) => call("DELETE", path, { token: who.token, json }),
});

async function counts(id: string) {
  const [row] = await context.sql<{ followers_count: number; following_count: number }[]>`select followers_count, following_count from accounts where id = ${id}`;
  return row!;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  const username = `gr_template_${Date.now().toString(36)}`;
  template = (await createLocalAccount(context.sql, context.config, { username, email: `${username}@example.com`, password: "correct horse battery", confirmed: true })).account;
});

afterAll(async () => {
  await context.close();
});

describe("follow and unfollow", () => {
  test("following an unlocked account is immediate, keeps counters right and is idempotent with new options", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const followed = await as(alice).post(`/api/v1/accounts/${bob.id}/follow`, { reblogs: false, notify: true, languages: ["en", "DE"] });
    expect(followed.status).toBe(200);
    expectMatchesSchema(followed.json, "Relationship");
    expect(followed.json).toMatchObject({ id: bob.id, following: true, showing_reblogs: false, notifying: true, languages: ["en", "de"], requested: false, followed_by: false });
    expect(await counts(alice.id)).toEqual({ followers_count: 0, following_count: 1 });
    expect(await counts(bob.id)).toEqual({ followers_count: 1, following_count: 0 });

    // Again, with only `reblogs`: the follow stays, notify stays, counters do not move.
    const again = await as(alice).post(`/api/v1/accounts/${bob.id}/follow`, { reblogs: true });
    expect(again.json).toMatchObject({ following: true, showing_reblogs: true, notifying: true });
    expect(await counts(bob.id)).toEqual({ followers_count: 1, following_count: 0 });

    const seenByBob = await as(bob).get(`/api/v1/accounts/relationships?id[]=${alice.id}`);
    expect(seenByBob.json[0]).toMatchObject({ id: alice.id, following: false, followed_by: true });

    const unfollowed = await as(alice).post(`/api/v1/accounts/${bob.id}/unfollow`);
    expect(unfollowed.json).toMatchObject({ following: false, showing_reblogs: false, notifying: false });
    expect(await counts(alice.id)).toEqual({ followers_count: 0, following_count: 0 });
    expect(await counts(bob.id)).toEqual({ followers_count: 0, following_count: 0 });
    // Unfollowing again is harmless.
    expect((await as(alice).post(`/api/v1/accounts/${bob.id}/unfollow`)).status).toBe(200);
    expect(await counts(bob.id)).toEqual({ followers_count: 0, following_count: 0 });
  });

  test("form-encoded options work as JSON does", async () => {
    const a = await user("form_a");
    const b = await user("form_b");
    const response = await call("POST", `/api/v1/accounts/${b.id}/follow`, { token: a.token, form: { reblogs: "0", notify: "true", "languages[]": "fr" } });
    expect(response.json).toMatchObject({ following: true, showing_reblogs: false, notifying: true, languages: ["fr"] });
  });

  test("following yourself or across a block is 403; bad options are 422", async () => {
    const a = await user("self");
    const b = await user("other");
    const self = await as(a).post(`/api/v1/accounts/${a.id}/follow`);
    expect(self.status).toBe(403);
    expect(self.json.error).toBeString();
    expect((await as(a).post(`/api/v1/accounts/${b.id}/follow`, { reblogs: "maybe" })).status).toBe(422);
    expect((await as(a).post(`/api/v1/accounts/${b.id}/follow`, { languages: ["english!"] })).status).toBe(422);
    await as(b).post(`/api/v1/accounts/${a.id}/block`);
    const blocked = await as(a).post(`/api/v1/accounts/${b.id}/follow`);
    expect(blocked.status).toBe(403);
    expect(blocked.json).toEqual({ error: "This action is not allowed" });
    expect((await as(b).post(`/api/v1/accounts/${a.id}/follow`)).status).toBe(403);
    expect(await counts(b.id)).toEqual({ followers_count: 0, following_count: 0 });
  });

  test("a token without follow scopes is refused", async () => {
    const a = await user("scoped");
    const b = await user("scoped_target");
    const { token } = await issueToken(context.sql, { userId: a.user.id, applicationId: null, scopes: "read", description: "test" });
    expect((await call("POST", `/api/v1/accounts/${b.id}/follow`, { token })).status).toBe(403);
    expect((await call("POST", `/api/v1/accounts/${b.id}/follow`)).status).toBe(401);
    expect((await call("GET", `/api/v1/accounts/relationships?id=${b.id}`, { token })).status).toBe(200);
  });

  test("remove_from_followers makes a follower stop following", async () => {
    const star = await user("star");
    const fan = await user("fan");
    await as(fan).post(`/api/v1/accounts/${star.id}/follow`);
    const removed = await as(star).post(`/api/v1/accounts/${fan.id}/remove_from_followers`);
    expect(removed.json).toMatchObject({ followed_by: false, following: false });
    expect(await counts(star.id)).toEqual({ followers_count: 0, following_count: 0 });
    expect(await counts(fan.id)).toEqual({ followers_count: 0, following_count: 0 });
  });
});

describe("counters under concurrency", () => {
  test("parallel follows, repeats and crossing follows leave counters equal to the rows", async () => {
    const star = await user("race_star");
    const fans = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => user(`race_fan${i}`)));
    const responses = [
      ...(await Promise.all(fans.flatMap((fan) => [as(fan).post(`/api/v1/accounts/${star.id}/follow`), as(fan).post(`/api/v1/accounts/${star.id}/follow`)]))),
      ...(await Promise.all(fans.map((fan) => as(star).post(`/api/v1/accounts/${fan.id}/follow`)))),
      ...(await Promise.all(fans.slice(0, 3).flatMap((fan) => [as(fan).post(`/api/v1/accounts/${star.id}/unfollow`), as(star).post(`/api/v1/accounts/${fan.id}/block`)]))),
    ];
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    const [truth] = await context.sql<{ followers: number; following: number }[]>`
      select (select count(*) from follows where target_account_id = ${star.id})::int as followers,
             (select count(*) from follows where account_id = ${star.id})::int as following`;
    expect(truth).toEqual({ followers: 3, following: 3 });
    expect(await counts(star.id)).toEqual({ followers_count: 3, following_count: 3 });
    for (const fan of fans) {
      const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from follows where account_id = ${fan.id}`;
      expect((await counts(fan.id)).following_count).toBe(row!.n);
    }
  });
});

describe("locked accounts and follow requests", () => {
  test("a request waits, is listed, and becomes a follow when authorized", async () => {
    const lock = await user("lock", { locked: true });
    const asker = await user("asker");
    const asked = await as(asker).post(`/api/v1/accounts/${lock.id}/follow`, { notify: true });
    expect(asked.json).toMatchObject({ following: false, requested: true, notifying: true });
    expect(await counts(lock.id)).toEqual({ followers_count: 0, following_count: 0 });
    expect((await as(lock).get(`/api/v1/accounts/relationships?id[]=${asker.id}`)).json[0].requested_by).toBe(true);

    const list = await as(lock).get("/api/v1/follow_requests");
    expect(list.status).toBe(200);
    expectMatchesSchema(list.json, arrayOf("Account"));
    expect(list.json.map((a: any) => a.id)).toEqual([asker.id]);
    expect((await as(lock).get("/api/v1/accounts/verify_credentials")).json.source.follow_requests_count).toBe(1);

    const authorized = await as(lock).post(`/api/v1/follow_requests/${asker.id}/authorize`);
    expect(authorized.status).toBe(200);
    expect(authorized.json).toMatchObject({ id: asker.id, followed_by: true, requested_by: false });
    expect((await as(asker).get(`/api/v1/accounts/relationships?id[]=${lock.id}`)).json[0]).toMatchObject({ following: true, requested: false, notifying: true });
    expect(await counts(lock.id)).toEqual({ followers_count: 1, following_count: 0 });
    expect((await as(lock).get("/api/v1/follow_requests")).json).toEqual([]);
    expect((await as(lock).get("/api/v1/accounts/verify_credentials")).json.source.follow_requests_count).toBe(0);
    // Nothing left to authorize: 404.
    expect((await as(lock).post(`/api/v1/follow_requests/${asker.id}/authorize`)).status).toBe(404);
  });

  test("reject drops the request; unfollow withdraws one", async () => {
    const lock = await user("lock2", { locked: true });
    const a = await user("rejected");
    const b = await user("withdrawn");
    await as(a).post(`/api/v1/accounts/${lock.id}/follow`);
    await as(b).post(`/api/v1/accounts/${lock.id}/follow`);
    const rejected = await as(lock).post(`/api/v1/follow_requests/${a.id}/reject`);
    expect(rejected.json).toMatchObject({ requested_by: false, followed_by: false });
    expect((await as(lock).post(`/api/v1/follow_requests/${a.id}/reject`)).status).toBe(404);
    expect((await as(b).post(`/api/v1/accounts/${lock.id}/unfollow`)).json).toMatchObject({ requested: false, following: false });
    expect((await as(lock).get("/api/v1/follow_requests")).json).toEqual([]);
    expect(await counts(lock.id)).toEqual({ followers_count: 0, following_count: 0 });
  });
});

describe("blocks", () => {
  test("a block cuts follows and requests both ways and adjusts counters", async () => {
    const a = await user("blocker");
    const b = await user("blocked");
    await as(a).post(`/api/v1/accounts/${b.id}/follow`);
    await as(b).post(`/api/v1/accounts/${a.id}/follow`);
    expect(await counts(a.id)).toEqual({ followers_count: 1, following_count: 1 });
    await as(a).post(`/api/v1/accounts/${b.id}/pin`);

    const blocked = await as(a).post(`/api/v1/accounts/${b.id}/block`);
    expect(blocked.json).toMatchObject({ blocking: true, following: false, followed_by: false, endorsed: false });
    expect((await as(b).get(`/api/v1/accounts/relationships?id[]=${a.id}`)).json[0]).toMatchObject({ blocked_by: true, following: false });
    expect(await counts(a.id)).toEqual({ followers_count: 0, following_count: 0 });
    expect(await counts(b.id)).toEqual({ followers_count: 0, following_count: 0 });

    const list = await as(a).get("/api/v1/blocks");
    expect(list.json.map((x: any) => x.id)).toEqual([b.id]);
    expect((await as(a).post(`/api/v1/accounts/${b.id}/unblock`)).json).toMatchObject({ blocking: false });
    expect((await as(a).get("/api/v1/blocks")).json).toEqual([]);
    // After the unblock, following works again.
    expect((await as(b).post(`/api/v1/accounts/${a.id}/follow`)).json.following).toBe(true);
  });

  test("a pending request to a locked blocker is dropped too", async () => {
    const lock = await user("lockblock", { locked: true });
    const asker = await user("lockblock_asker");
    await as(asker).post(`/api/v1/accounts/${lock.id}/follow`);
    await as(lock).post(`/api/v1/accounts/${asker.id}/block`);
    expect((await as(lock).get("/api/v1/follow_requests")).json).toEqual([]);
  });
});

describe("mutes", () => {
  test("mute hides notifications by default, takes a duration, and an expired mute is no mute", async () => {
    const a = await user("muter");
    const b = await user("muted");
    const c = await user("muted_temp");
    const muted = await as(a).post(`/api/v1/accounts/${b.id}/mute`);
    expect(muted.json).toMatchObject({ muting: true, muting_notifications: true, muting_expires_at: null });
    const quiet = await as(a).post(`/api/v1/accounts/${b.id}/mute`, { notifications: false });
    expect(quiet.json).toMatchObject({ muting: true, muting_notifications: false });

    const timed = await as(a).post(`/api/v1/accounts/${c.id}/mute`, { duration: 3600 });
    const expires = Date.parse(timed.json.muting_expires_at);
    expect(expires).toBeGreaterThan(Date.now() + 3500_000);
    expect(expires).toBeLessThan(Date.now() + 3700_000);
    expect((await as(a).get("/api/v1/mutes")).json.map((x: any) => x.id)).toEqual([c.id, b.id]);

    await context.sql`update mutes set expires_at = now() - interval '1 second' where account_id = ${a.id} and target_account_id = ${c.id}`;
    expect((await as(a).get(`/api/v1/accounts/relationships?id[]=${c.id}`)).json[0]).toMatchObject({ muting: false, muting_notifications: false });
    expect((await as(a).get("/api/v1/mutes")).json.map((x: any) => x.id)).toEqual([b.id]);

    expect((await as(a).post(`/api/v1/accounts/${b.id}/mute`, { duration: -5 })).status).toBe(422);
    expect((await as(a).post(`/api/v1/accounts/${b.id}/mute`, { duration: "soon" })).status).toBe(422);
    expect((await as(a).post(`/api/v1/accounts/${b.id}/unmute`)).json.muting).toBe(false);
  });
});

describe("relationships and familiar followers", () => {
  test("relationships come in the order asked, skipping unknown and malformed ids", async () => {
    const me = await user("rel_me");
    const x = await user("rel_x");
    const y = await user("rel_y");
    const response = await as(me).get(`/api/v1/accounts/relationships?id[]=${y.id}&id[]=nope&id[]=${x.id}&id[]=1&id[]=${y.id}&id[]=-3`);
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, arrayOf("Relationship"));
    expect(response.json.map((r: any) => r.id)).toEqual([y.id, x.id]);
    expect((await as(me).get("/api/v1/accounts/relationships")).json).toEqual([]);
    // A suspended account shows only with with_suspended.
    await context.sql`update accounts set suspended_at = now() where id = ${x.id}`;
    expect((await as(me).get(`/api/v1/accounts/relationships?id[]=${x.id}`)).json).toEqual([]);
    expect((await as(me).get(`/api/v1/accounts/relationships?id[]=${x.id}&with_suspended=true`)).json.map((r: any) => r.id)).toEqual([x.id]);
  });

  test("familiar followers are the accounts I follow that follow them", async () => {
    const me = await user("fam_me");
    const friend = await user("fam_friend");
    const shy = await user("fam_shy", { hideCollections: true });
    const target = await user("fam_target");
    for (const f of [friend, shy]) {
      await as(me).post(`/api/v1/accounts/${f.id}/follow`);
      await as(f).post(`/api/v1/accounts/${target.id}/follow`);
    }
    const response = await as(me).get(`/api/v1/accounts/familiar_followers?id[]=${target.id}&id[]=${friend.id}`);
    expect(response.status).toBe(200);
    expectMatchesSchema(response.json, arrayOf("FamiliarFollowers"));
    expect(response.json).toEqual([
      { id: target.id, accounts: [expect.objectContaining({ id: friend.id })] },
      { id: friend.id, accounts: [] },
    ]);
  });
});

describe("followers and following lists", () => {
  test("pages by follow id with Link headers, with no gaps or repeats when follows arrive between pages", async () => {
    const star = await user("page_star");
    const fans = [];
    for (let i = 0; i < 5; i++) fans.push(await user(`page_fan${i}`));
    for (const fan of fans) await as(fan).post(`/api/v1/accounts/${star.id}/follow`);

    const first = await call("GET", `/api/v1/accounts/${star.id}/followers?limit=2`);
    expect(first.status).toBe(200);
    expectMatchesSchema(first.json, arrayOf("Account"));
    expect(first.json.map((a: any) => a.id)).toEqual([fans[4]!.id, fans[3]!.id]);
    const link = first.headers.get("link")!;
    const next = /<([^>]+)>; rel="next"/.exec(link)![1]!;
    const prev = /<([^>]+)>; rel="prev"/.exec(link)![1]!;
    expect(next).toStartWith(`${context.config.baseUrl}/api/v1/accounts/${star.id}/followers?`);
    expect(new URL(next).searchParams.get("limit")).toBe("2");
    expect(new URL(next).searchParams.get("max_id")).toMatch(/^\d+$/);
    expect(new URL(prev).searchParams.get("min_id")).toMatch(/^\d+$/);

    // A new follower arrives between pages: it belongs to the newer side, not in the next pages.
    const late = await user("page_late");
    await as(late).post(`/api/v1/accounts/${star.id}/follow`);

    const seen = first.json.map((a: any) => a.id);
    let url: string | undefined = next;
    while (url) {
      const u = new URL(url);
      const page = await call("GET", u.pathname + u.search);
      seen.push(...page.json.map((a: any) => a.id));
      const l = page.headers.get("link");
      url = page.json.length > 0 && l ? /<([^>]+)>; rel="next"/.exec(l)![1] : undefined;
    }
    expect(seen).toEqual([...fans].reverse().map((f) => f.id));

    // Paging forward from the first page's prev link finds exactly the late follower.
    const newer = new URL(prev);
    expect((await call("GET", newer.pathname + newer.search)).json.map((a: any) => a.id)).toEqual([late.id]);

    const following = await call("GET", `/api/v1/accounts/${fans[0]!.id}/following`);
    expect(following.json.map((a: any) => a.id)).toEqual([star.id]);
  });

  test("hide_collections shows an empty list to others but not to the owner", async () => {
    const shy = await user("hidden", { hideCollections: true });
    const fan = await user("hidden_fan");
    await as(fan).post(`/api/v1/accounts/${shy.id}/follow`);
    expect((await call("GET", `/api/v1/accounts/${shy.id}/followers`)).json).toEqual([]);
    expect((await as(fan).get(`/api/v1/accounts/${shy.id}/followers`)).json).toEqual([]);
    expect((await as(shy).get(`/api/v1/accounts/${shy.id}/followers`)).json.map((a: any) => a.id)).toEqual([fan.id]);
  });

  test("an account that blocks you shows you no followers; one you block still does", async () => {
    const owner = await user("coll_owner");
    const fan = await user("coll_fan");
    const blocked = await user("coll_blocked");
    const blocker = await user("coll_blocker");
    await as(fan).post(`/api/v1/accounts/${owner.id}/follow`);
    await as(owner).post(`/api/v1/accounts/${blocked.id}/block`);
    await as(blocker).post(`/api/v1/accounts/${owner.id}/block`);
    expect((await as(blocked).get(`/api/v1/accounts/${owner.id}/followers`)).json).toEqual([]);
    expect((await as(blocker).get(`/api/v1/accounts/${owner.id}/followers`)).json.map((a: any) => a.id)).toEqual([fan.id]);
  });

  test("bad pagination is a 400, never a 500", async () => {
    const a = await user("badpage");
    expect((await call("GET", `/api/v1/accounts/${a.id}/followers?limit=-1`)).status).toBe(400);
    expect((await call("GET", `/api/v1/accounts/${a.id}/followers?max_id=abc`)).status).toBe(400);
    expect((await call("GET", `/api/v1/accounts/${a.id}/followers?max_id=99999999999999999999`)).status).toBe(400);
    expect((await call("GET", `/api/v1/accounts/${a.id}/followers?limit=100000`)).status).toBe(200);
  });
});

describe("endorsements and notes", () => {
  test("only accounts you follow can be endorsed; endorsements are listed for me and for others", async () => {
    const me = await user("endorser");
    const pal = await user("pal");
    const pinFirst = await as(me).post(`/api/v1/accounts/${pal.id}/pin`);
    expect(pinFirst.status).toBe(422);
    expect(pinFirst.json.error).toBeString();
    await as(me).post(`/api/v1/accounts/${pal.id}/follow`);
    expect((await as(me).post(`/api/v1/accounts/${pal.id}/endorse`)).json.endorsed).toBe(true);
    expect((await as(me).get("/api/v1/endorsements")).json.map((a: any) => a.id)).toEqual([pal.id]);
    expect((await call("GET", `/api/v1/accounts/${me.id}/endorsements`)).json.map((a: any) => a.id)).toEqual([pal.id]);
    expect((await as(me).post(`/api/v1/accounts/${pal.id}/unpin`)).json.endorsed).toBe(false);
    expect((await as(me).get("/api/v1/endorsements")).json).toEqual([]);
  });

  test("a private note is set, cleared, and refused over 2000 characters", async () => {
    const me = await user("noter");
    const them = await user("noted");
    expect((await as(me).post(`/api/v1/accounts/${them.id}/note`, { comment: "met at the café" })).json.note).toBe("met at the café");
    expect((await as(them).get(`/api/v1/accounts/relationships?id[]=${me.id}`)).json[0].note).toBe("");
    expect((await as(me).post(`/api/v1/accounts/${them.id}/note`, { comment: "x".repeat(2001) })).status).toBe(422);
    expect((await as(me).post(`/api/v1/accounts/${them.id}/note`, { comment: "" })).json.note).toBe("");
  });
});

describe("domain blocks", () => {
  test("add, list with paging, remove; bad domains are 422", async () => {
    const me = await user("domainer");
    expect((await as(me).post("/api/v1/domain_blocks", { domain: "Spam.Example" })).json).toEqual({});
    await as(me).post("/api/v1/domain_blocks", { domain: "other.example" });
    await as(me).post("/api/v1/domain_blocks", { domain: "other.example" });
    const list = await as(me).get("/api/v1/domain_blocks?limit=1");
    expect(list.json).toEqual(["other.example"]);
    expect(list.headers.get("link")).toContain("max_id=");
    expect((await as(me).get("/api/v1/domain_blocks")).json).toEqual(["other.example", "spam.example"]);
    expect((await as(me).del("/api/v1/domain_blocks", { domain: "spam.example" })).json).toEqual({});
    expect((await call("DELETE", "/api/v1/domain_blocks?domain=other.example", { token: me.token })).status).toBe(200);
    expect((await as(me).get("/api/v1/domain_blocks")).json).toEqual([]);
    expect((await as(me).post("/api/v1/domain_blocks", { domain: "not a domain" })).status).toBe(422);
    expect((await as(me).post("/api/v1/domain_blocks", { domain: 42 })).status).toBe(422);
    expect((await as(me).post("/api/v1/domain_blocks", {})).status).toBe(400);
  });
});

describe("followed tags", () => {
  test("follow creates the tag, case-insensitively; listed; unfollow", async () => {
    const me = await user("tagger");
    const followed = await as(me).post("/api/v1/tags/GrWoolly/follow");
    expect(followed.status).toBe(200);
    expectMatchesSchema(followed.json, "Tag");
    expect(followed.json).toMatchObject({ name: "GrWoolly", following: true });
    expect(followed.json.history.length).toBe(7); // a week of (here unused) days, as Mastodon
    expect((await as(me).post("/api/v1/tags/grwoolly/follow")).json.id).toBe(followed.json.id);
    expect((await as(me).get("/api/v1/tags/GRWOOLLY")).json).toMatchObject({ id: followed.json.id, following: true });
    expect((await call("GET", "/api/v1/tags/grwoolly")).json.following).toBeUndefined();
    const list = await as(me).get("/api/v1/followed_tags");
    expect(list.json.map((t: any) => t.name)).toEqual(["GrWoolly"]);
    expect((await as(me).post("/api/v1/tags/grwoolly/unfollow")).json.following).toBe(false);
    expect((await as(me).get("/api/v1/followed_tags")).json).toEqual([]);
    expect((await as(me).post(`/api/v1/tags/${encodeURIComponent("café_gr")}/follow`)).json.name).toBe("café_gr");
  });

  test("unknown and impossible tag names are 404", async () => {
    const me = await user("tagger404");
    expect((await call("GET", "/api/v1/tags/gr_never_used_tag")).status).toBe(404);
    for (const bad of ["%25%25", "a%20b", "semi;colon", "%F0%9F%92%A9"]) {
      const response = await as(me).post(`/api/v1/tags/${bad}/follow`);
      expect(response.status).toBe(404);
      expect(response.json.error).toBeString();
    }
  });
});

describe("account statuses", () => {
  test("filters, paging and visibility", async () => {
    const author = await user("poster");
    const follower = await user("poster_fan");
    const stranger = await user("poster_stranger");
    await as(follower).post(`/api/v1/accounts/${author.id}/follow`);
    const pub = await postStatus(context, author, { status: "hello #GrTagged", visibility: "public" });
    const priv = await postStatus(context, author, { status: "friends only", visibility: "private" });
    const reply = await postStatus(context, author, { status: "replying to myself", visibility: "public", in_reply_to_id: pub.statusId });
    const other = await postStatus(context, stranger, { status: "a post by someone else", visibility: "public" });
    const replyToOther = await postStatus(context, author, { status: "a reply", visibility: "unlisted", in_reply_to_id: other.statusId });

    const ids = async (who: { token: string } | undefined, query = "") =>
      (await call("GET", `/api/v1/accounts/${author.id}/statuses${query}`, { token: who?.token })).json.map((s: any) => s.id);

    expect(await ids(undefined)).toEqual([replyToOther.statusId, reply.statusId, pub.statusId]);
    expect(await ids(stranger)).toEqual([replyToOther.statusId, reply.statusId, pub.statusId]);
    expect(await ids(follower)).toEqual([replyToOther.statusId, reply.statusId, priv.statusId, pub.statusId]);
    expect(await ids(author, "?exclude_replies=true")).toEqual([reply.statusId, priv.statusId, pub.statusId]);
    expect(await ids(author, "?tagged=grtagged")).toEqual([pub.statusId]);
    expect(await ids(author, "?tagged=nope nope")).toEqual([]);
    expect(await ids(author, "?only_media=true")).toEqual([]);
    expect(await ids(author, "?pinned=true")).toEqual([]);

    const page = await call("GET", `/api/v1/accounts/${author.id}/statuses?limit=2`, { token: follower.token });
    expectMatchesSchema(page.json, arrayOf("Status"));
    expect(page.json.map((s: any) => s.id)).toEqual([replyToOther.statusId, reply.statusId]);
    const next = new URL(/<([^>]+)>; rel="next"/.exec(page.headers.get("link")!)![1]!);
    expect(next.searchParams.get("max_id")).toBe(reply.statusId);
    expect((await call("GET", next.pathname + next.search, { token: follower.token })).json.map((s: any) => s.id)).toEqual([priv.statusId, pub.statusId]);

    // Blocked by the author: nothing.
    await as(author).post(`/api/v1/accounts/${stranger.id}/block`);
    expect(await ids(stranger)).toEqual([]);
  });
});

describe("hostile ids", () => {
  const bad = ["abc", "-1", "0", "99999999999999999999", "1%27%20or%201%3D1", "1.5", "%00"];
  const routes: [string, (id: string) => string][] = [
    ["POST", (id) => `/api/v1/accounts/${id}/follow`],
    ["POST", (id) => `/api/v1/accounts/${id}/unfollow`],
    ["POST", (id) => `/api/v1/accounts/${id}/block`],
    ["POST", (id) => `/api/v1/accounts/${id}/unblock`],
    ["POST", (id) => `/api/v1/accounts/${id}/mute`],
    ["POST", (id) => `/api/v1/accounts/${id}/unmute`],
    ["POST", (id) => `/api/v1/accounts/${id}/remove_from_followers`],
    ["POST", (id) => `/api/v1/accounts/${id}/pin`],
    ["POST", (id) => `/api/v1/accounts/${id}/unendorse`],
    ["POST", (id) => `/api/v1/accounts/${id}/note`],
    ["GET", (id) => `/api/v1/accounts/${id}/followers`],
    ["GET", (id) => `/api/v1/accounts/${id}/following`],
    ["GET", (id) => `/api/v1/accounts/${id}/statuses`],
    ["GET", (id) => `/api/v1/accounts/${id}/endorsements`],
    ["POST", (id) => `/api/v1/follow_requests/${id}/authorize`],
    ["POST", (id) => `/api/v1/follow_requests/${id}/reject`],
  ];
  test("every route answers 404 for ids that name no account", async () => {
    const me = await user("hostile");
    const hidden = await createLocalAccount(context.sql, context.config, { username: `gr_unconfirmed_${++counter}`, email: `gr_unconfirmed_${counter}@example.com`, password: "correct horse battery", confirmed: false });
    for (const [method, path] of routes) {
      for (const id of [...bad, "123456789", hidden.account.id]) {
        const response = await call(method, path(id), { token: me.token });
        if (response.status !== 404) throw new Error(`${method} ${path(id)} → ${response.status} ${JSON.stringify(response.json)}`);
        expect(response.json).toEqual({ error: "Record not found" });
      }
    }
    const weird = await as(me).get(`/api/v1/accounts/relationships?id[]=${bad.join("&id[]=")}&id[][x]=1`);
    expect(weird.status).toBeLessThan(500);
  });
});

describe("events", () => {
  test("follow, request, authorize, unfollow and block announce themselves once, after the change; a refused follow announces nothing", async () => {
    // A spy subscriber to every graph event; its jobs are recorded instead of enqueued.
    const spy = defineJob({ name: "test.graph-spy", queue: "default", schema: eventSchema, attempts: 1, backoffMs: 1000, handler: async () => {} });
    const seen: { type: string; accountId: string; targetAccountId: string }[] = [];
    SUBSCRIBERS.push({ events: ["account.followed", "account.follow_requested", "account.unfollowed", "account.blocked"], job: spy });
    const enqueue = context.queues.enqueue.bind(context.queues);
    context.queues.enqueue = (async (job: any, payload: any, options: any) => {
      // Events go out as one group job per queue naming its subscribers (features/events/publish.ts), or as
      // the subscriber's own job when it is the queue's only one: either way the spy is in it.
      const forSpy = job.name === spy.name || (Array.isArray(payload?.subscribers) && payload.subscribers.includes(spy.name));
      if (!forSpy) return enqueue(job, payload, options);
      seen.push({ type: payload.type, accountId: payload.accountId, targetAccountId: payload.targetAccountId });
      return "spied";
    }) as typeof context.queues.enqueue;
    try {
      const a = await user("ev_a");
      const b = await user("ev_b");
      const lock = await user("ev_lock", { locked: true });
      await as(a).post(`/api/v1/accounts/${b.id}/follow`);
      await as(a).post(`/api/v1/accounts/${b.id}/follow`, { notify: true });
      await as(b).post(`/api/v1/accounts/${a.id}/follow`);
      await as(a).post(`/api/v1/accounts/${lock.id}/follow`);
      await as(lock).post(`/api/v1/follow_requests/${a.id}/authorize`);
      await as(a).post(`/api/v1/accounts/${lock.id}/unfollow`);
      await as(a).post(`/api/v1/accounts/${b.id}/block`);
      await as(b).post(`/api/v1/accounts/${a.id}/follow`); // 403: nothing
      expect(seen).toEqual([
        { type: "account.followed", accountId: a.id, targetAccountId: b.id },
        { type: "account.followed", accountId: b.id, targetAccountId: a.id },
        { type: "account.follow_requested", accountId: a.id, targetAccountId: lock.id },
        { type: "account.followed", accountId: a.id, targetAccountId: lock.id },
        { type: "account.unfollowed", accountId: a.id, targetAccountId: lock.id },
        { type: "account.unfollowed", accountId: a.id, targetAccountId: b.id },
        { type: "account.unfollowed", accountId: b.id, targetAccountId: a.id },
        { type: "account.blocked", accountId: a.id, targetAccountId: b.id },
      ]);
    } finally {
      SUBSCRIBERS.splice(SUBSCRIBERS.findIndex((s) => s.job === spy), 1);
      context.queues.enqueue = enqueue;
    }
  });
});

describe("masto.js", () => {
  test("follow, relationships and unfollow through the real client", async () => {
    const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const me = await user("masto_me");
      const them = await user("masto_them", { locked: true });
      const client = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: me.token });
      const requested = await client.v1.accounts.$select(them.id).follow({ reblogs: false });
      expect(requested).toMatchObject({ id: them.id, following: false, requested: true, showingReblogs: false });
      const themClient = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: them.token });
      const pending = await themClient.v1.followRequests.list();
      expect(pending.map((a) => a.id)).toEqual([me.id]);
      await themClient.v1.followRequests.$select(me.id).authorize();
      const [relationship] = await client.v1.accounts.relationships.fetch({ id: [them.id] });
      expect(relationship).toMatchObject({ following: true, showingReblogs: false, requested: false });
      expect((await client.v1.accounts.$select(them.id).unfollow()).following).toBe(false);
      const error = await client.v1.accounts.$select(me.id).follow().catch((e) => e);
      expect(error).toBeInstanceOf(MastoHttpError);
      expect((error as MastoHttpError).statusCode).toBe(403);
    } finally {
      await web.stop(true);
    }
  });
});
