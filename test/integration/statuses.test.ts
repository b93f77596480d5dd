/**
 * Statuses through the real web app, the way clients call it: posting with every field, the 500-character
 * limit, mentions and hashtags, replies, media and polls, scheduling (and the scheduler job), Idempotency-Key,
 * delete-and-redraft, edit / history / source, context with a hidden reply, hostile ids — and one post
 * through the real masto client. Every Status is held to Mastodon's OpenAPI schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { publishScheduledJob } from "../../src/features/statuses/jobs";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let alice: LocalAccountRow;
let bob: LocalAccountRow;
let carol: LocalAccountRow;
const token: Record<string, string> = {};

const call = inProcessApi(() => app);

const post = (who: string, json: Record<string, unknown>, headers?: Record<string, string>) => call("POST", "/api/v1/statuses", { token: token[who], json, headers });

async function makeUser(username: string) {
  const { account } = await createLocalAccount(context.sql, context.config, { username, email: `${username}@example.com`, password: "correct horse battery", confirmed: true });
  token[username] = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write follow", description: "test" })).token;
  return account;
}

async function media(owner: LocalAccountRow, processing: "done" | "pending" = "done") {
  const [row] = await context.sql<{ id: string }[]>`
    insert into media_attachments (account_id, type, file_key, content_type, processing, meta)
    values (${owner.id}, 'image', ${processing === "done" ? `media/${crypto.randomUUID()}.png` : null}, 'image/png', ${processing}, '{}')
    returning id::text`;
  return row!.id;
}

const accountRow = async (id: string) => (await context.sql<{ statuses_count: number; last_status_at: Date | null }[]>`select statuses_count, last_status_at from accounts where id = ${id}`)[0]!;

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  alice = await makeUser("st_alice");
  bob = await makeUser("st_bob");
  carol = await makeUser("st_carol");
});

afterAll(async () => {
  await context.close();
});

describe("POST /api/v1/statuses", () => {
  test("a plain post: Status entity, uri/url, counters, default visibility", async () => {
    const before = await accountRow(alice.id);
    const { status, json } = await post("st_alice", { status: "Hello <world> & all\n\nsecond paragraph" });
    expect(status).toBe(200);
    expectMatchesSchema(json, "Status");
    expect(json.content).toBe("<p>Hello &lt;world&gt; &amp; all</p><p>second paragraph</p>");
    expect(json.visibility).toBe("public");
    expect(json.uri).toBe(`${context.config.baseUrl}/users/st_alice/statuses/${json.id}`);
    expect(json.url).toBe(`${context.config.baseUrl}/@st_alice/${json.id}`);
    expect(json.account.id).toBe(alice.id);
    expect([json.favourited, json.reblogged, json.bookmarked, json.muted, json.pinned]).toEqual([false, false, false, false, false]);
    const after = await accountRow(alice.id);
    expect(after.statuses_count).toBe(before.statuses_count + 1);
    expect(after.last_status_at).not.toBeNull();
  });

  test("every field, as a form: spoiler, sensitive, visibility, language", async () => {
    const { status, json } = await call("POST", "/api/v1/statuses", {
      token: token.st_alice,
      form: { status: "cw'd", spoiler_text: "careful", visibility: "unlisted", language: "de" },
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ spoiler_text: "careful", sensitive: true, visibility: "unlisted", language: "de" });
    const bad = await call("POST", "/api/v1/statuses", { token: token.st_alice, form: { status: "x", visibility: "everyone" } });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toContain("Visibility");
  });

  test("500 characters pass, 501 fail; URLs count 23; blank text fails; nothing written on failure", async () => {
    expect((await post("st_alice", { status: "a".repeat(500) })).status).toBe(200);
    const before = (await context.sql<{ count: number }[]>`select count(*)::int from statuses where account_id = ${alice.id}`)[0]!.count;
    const tooLong = await post("st_alice", { status: "a".repeat(501) });
    expect(tooLong).toMatchObject({ status: 422, json: { error: "Validation failed: Text character limit of 500 exceeded" } });
    const url = `https://example.com/${"x".repeat(600)}`;
    expect((await post("st_alice", { status: `${"a".repeat(476)} ${url}` })).status).toBe(200);
    expect((await post("st_alice", { status: `${"a".repeat(477)} ${url}` })).status).toBe(422);
    expect(await post("st_alice", { status: "   " })).toMatchObject({ status: 422, json: { error: "Validation failed: Text can't be blank" } });
    const after = (await context.sql<{ count: number }[]>`select count(*)::int from statuses where account_id = ${alice.id}`)[0]!.count;
    expect(after).toBe(before + 1);
  });

  test("mentions and hashtags are linked and stored; unknown handles stay text", async () => {
    const { json } = await post("st_alice", { status: `hi @st_bob and @st_carol@${context.config.localDomain} and @nobody_here #Woolly #woolly #42` });
    expectMatchesSchema(json, "Status");
    expect(json.mentions.map((m: any) => m.username).sort()).toEqual(["st_bob", "st_carol"]);
    expect(json.mentions[0]).toMatchObject({ acct: expect.any(String), url: expect.stringContaining("/@st_") });
    expect(json.tags).toEqual([{ name: "woolly", url: `${context.config.baseUrl}/tags/woolly` }]);
    expect(json.content).toContain('<span class="h-card" translate="no"><a href="' + `${context.config.baseUrl}/@st_bob` + '" class="u-url mention">@<span>st_bob</span></a></span>');
    expect(json.content).toContain('class="mention hashtag" rel="tag">#<span>Woolly</span></a>');
    expect(json.content).toContain("@nobody_here");
    const mentions = await context.sql`select account_id::text from mentions where status_id = ${json.id}`;
    expect(mentions.map((m) => m.account_id).sort()).toEqual([bob.id, carol.id].sort());
    const tags = await context.sql`select t.name from statuses_tags st join tags t on t.id = st.tag_id where st.status_id = ${json.id}`;
    expect(tags.map((t) => t.name)).toEqual(["woolly"]);
  });

  test("replies: parent's counters and thread; an invisible parent is 404", async () => {
    const parent = (await post("st_alice", { status: "parent" })).json;
    const reply = await post("st_bob", { status: "reply", in_reply_to_id: parent.id });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ in_reply_to_id: parent.id, in_reply_to_account_id: alice.id });
    expect((await call("GET", `/api/v1/statuses/${parent.id}`)).json.replies_count).toBe(1);
    // A followers-only reply does not show as a number strangers can see.
    await post("st_bob", { status: "quiet reply", in_reply_to_id: parent.id, visibility: "private" });
    expect((await call("GET", `/api/v1/statuses/${parent.id}`)).json.replies_count).toBe(1);

    const secret = (await post("st_alice", { status: "followers only", visibility: "private" })).json;
    expect(await post("st_bob", { status: "sneaky", in_reply_to_id: secret.id })).toMatchObject({ status: 404, json: { error: "Record not found" } });
    expect((await post("st_bob", { status: "x", in_reply_to_id: "99999999999999999999999" })).status).toBe(404);
  });

  test("media: own, processed and unattached only, at most 4, not with a poll", async () => {
    const ids = [await media(alice), await media(alice)];
    const ok = await post("st_alice", { status: "", media_ids: ids });
    expect(ok.status).toBe(200);
    expectMatchesSchema(ok.json, "Status");
    expect(ok.json.media_attachments.map((m: any) => m.id)).toEqual(ids);
    expect((await post("st_alice", { status: "again", media_ids: [ids[0]] })).status).toBe(422); // already attached
    expect((await post("st_alice", { status: "theirs", media_ids: [await media(bob)] })).status).toBe(422);
    expect((await post("st_alice", { status: "pending", media_ids: [await media(alice, "pending")] })).json.error).toContain("not finished processing");
    const five = await Promise.all([1, 2, 3, 4, 5].map(() => media(alice)));
    expect(await post("st_alice", { status: "five", media_ids: five })).toMatchObject({ status: 422, json: { error: "Cannot attach more than 4 files" } });
    const withPoll = await post("st_alice", { status: "both", media_ids: [five[0]], poll: { options: ["a", "b"], expires_in: 3600 } });
    expect(withPoll.status).toBe(422);
    expect((await post("st_alice", { status: "garbage", media_ids: ["abc"] })).status).toBe(422);
    // Nothing was attached by the failed posts.
    const count = (await context.sql<{ count: number }[]>`select count(*)::int from media_attachments where id = any(${five}::bigint[]) and status_id is not null`)[0]!.count;
    expect(count).toBe(0);
  });

  test("polls: a Poll entity; bad polls are 422 and write nothing", async () => {
    const { status, json } = await call("POST", "/api/v1/statuses", {
      token: token.st_alice,
      form: [["status", "pick"], ["poll[options][]", "tea"], ["poll[options][]", "coffee"], ["poll[expires_in]", "3600"], ["poll[multiple]", "true"]],
    });
    expect(status).toBe(200);
    expectMatchesSchema(json, "Status");
    expect(json.poll).toMatchObject({ expired: false, multiple: true, votes_count: 0, options: [{ title: "tea", votes_count: 0 }, { title: "coffee", votes_count: 0 }], voted: true, own_votes: [] });
    const before = (await context.sql<{ count: number }[]>`select count(*)::int from polls`)[0]!.count;
    expect((await post("st_alice", { status: "x", poll: { options: ["a"], expires_in: 3600 } })).status).toBe(422);
    expect((await post("st_alice", { status: "x", poll: { options: ["a", "b", "c", "d", "e"], expires_in: 3600 } })).status).toBe(422);
    expect((await post("st_alice", { status: "x", poll: { options: ["a", "b"], expires_in: 10 } })).status).toBe(422);
    expect((await post("st_alice", { status: "x", poll: { options: ["a", "b"], expires_in: "soon" } })).status).toBe(422);
    const after = (await context.sql<{ count: number }[]>`select count(*)::int from polls`)[0]!.count;
    expect(after).toBe(before);
  });

  test("Idempotency-Key: two concurrent posts with one key make one status", async () => {
    const headers = { "idempotency-key": `key-${crypto.randomUUID()}` };
    const [a, b] = await Promise.all([post("st_alice", { status: "once" }, headers), post("st_alice", { status: "once" }, headers)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.json.id).toBe(b.json.id);
    const again = await post("st_alice", { status: "once" }, headers);
    expect(again.json.id).toBe(a.json.id);
    // Another account's identical key is its own.
    expect((await post("st_bob", { status: "once" }, headers)).json.id).not.toBe(a.json.id);
  });
});

describe("scheduled statuses", () => {
  test("scheduled_at: a ScheduledStatus; too soon or past is 422; the job publishes due ones", async () => {
    const at = new Date(Date.now() + 10 * 60_000).toISOString();
    const { status, json } = await post("st_carol", { status: "later #sched", scheduled_at: at, visibility: "unlisted" });
    expect(status).toBe(200);
    expectMatchesSchema(json, "ScheduledStatus");
    expect(json.params).toMatchObject({ text: "later #sched", visibility: "unlisted" });
    expect((await post("st_carol", { status: "soon", scheduled_at: new Date(Date.now() + 60_000).toISOString() })).status).toBe(422);
    expect((await post("st_carol", { status: "past", scheduled_at: "2001-01-01T00:00:00Z" })).status).toBe(422);
    expect((await post("st_carol", { status: "", scheduled_at: at })).status).toBe(422);

    const list = await call("GET", "/api/v1/scheduled_statuses", { token: token.st_carol });
    expect(list.json.map((s: any) => s.id)).toContain(json.id);
    expectMatchesSchema(list.json, arrayOf("ScheduledStatus"));
    expect(list.headers.get("link")).toContain(`max_id=${list.json.at(-1).id}`);
    expect((await call("GET", `/api/v1/scheduled_statuses/${json.id}`, { token: token.st_alice })).status).toBe(404);
    const moved = await call("PUT", `/api/v1/scheduled_statuses/${json.id}`, { token: token.st_carol, json: { scheduled_at: new Date(Date.now() + 20 * 60_000).toISOString() } });
    expect(moved.status).toBe(200);

    // Make it due and run the job twice (at-least-once delivery): one post.
    await context.sql`update scheduled_statuses set scheduled_at = now() - interval '1 second' where id = ${json.id}`;
    const jobContext = { ...context, jobId: "test", attempt: 1 };
    await Promise.all([publishScheduledJob.handler({}, jobContext), publishScheduledJob.handler({}, jobContext)]);
    const posted = await context.sql`select id::text, visibility from statuses where account_id = ${carol.id} and text = 'later #sched'`;
    expect(posted.length).toBe(1);
    expect(posted[0]!.visibility).toBe("unlisted");
    expect((await call("GET", `/api/v1/scheduled_statuses/${json.id}`, { token: token.st_carol })).status).toBe(404);
  });

  test("media waits on its scheduled post: not taken by another post, attached when published", async () => {
    const mediaId = await media(carol);
    const at = new Date(Date.now() + 3 * 24 * 3600_000).toISOString();
    const scheduled = await post("st_carol", { status: "with a picture", media_ids: [mediaId], scheduled_at: at });
    expect(scheduled.status).toBe(200);
    expect(scheduled.json.media_attachments.map((m: any) => m.id)).toEqual([mediaId]);
    expect((await post("st_carol", { status: "steal", media_ids: [mediaId] })).status).toBe(422);

    // A second in the past: Postgres's now() has microseconds, the job's JS clock only milliseconds, so "now"
    // could still lie (by under a millisecond) in the job's future.
    await context.sql`update scheduled_statuses set scheduled_at = now() - interval '1 second' where id = ${scheduled.json.id}`;
    await publishScheduledJob.handler({}, { ...context, jobId: "test", attempt: 1 });
    const [row] = await context.sql<{ status_id: string | null; scheduled_status_id: string | null }[]>`
      select status_id::text, scheduled_status_id::text from media_attachments where id = ${mediaId}`;
    expect(row!.status_id).not.toBeNull();
    expect(row!.scheduled_status_id).toBeNull();
    expect((await call("GET", `/api/v1/statuses/${row!.status_id}`)).json.media_attachments.map((m: any) => m.id)).toEqual([mediaId]);

    expect((await call("DELETE", `/api/v1/scheduled_statuses/${scheduled.json.id}`, { token: token.st_carol })).status).toBe(404);
  });
});

describe("reading", () => {
  test("GET one / many: visibility applied, hostile ids are 404 or dropped", async () => {
    const pub = (await post("st_alice", { status: "public one" })).json;
    const priv = (await post("st_alice", { status: "private one", visibility: "private" })).json;
    const direct = (await post("st_alice", { status: "@st_bob psst", visibility: "direct" })).json;
    expect((await call("GET", `/api/v1/statuses/${pub.id}`)).status).toBe(200);
    expect((await call("GET", `/api/v1/statuses/${priv.id}`)).status).toBe(404);
    expect((await call("GET", `/api/v1/statuses/${priv.id}`, { token: token.st_bob })).status).toBe(404);
    expect((await call("GET", `/api/v1/statuses/${priv.id}`, { token: token.st_alice })).status).toBe(200);
    expect((await call("GET", `/api/v1/statuses/${direct.id}`, { token: token.st_bob })).status).toBe(200);
    expect((await call("GET", `/api/v1/statuses/${direct.id}`, { token: token.st_carol })).status).toBe(404);
    for (const id of ["abc", "-1", "0", "1e5", "99999999999999999999999", "9223372036854775808", "%00", "1;drop table statuses"]) {
      const { status, json } = await call("GET", `/api/v1/statuses/${encodeURIComponent(id)}`);
      expect(status).toBe(404);
      expect(json).toEqual({ error: "Record not found" });
    }
    const many = await call("GET", `/api/v1/statuses?id[]=${priv.id}&id[]=${pub.id}&id[]=junk&id[]=${direct.id}`, { token: token.st_bob });
    expect(many.status).toBe(200);
    expectMatchesSchema(many.json, arrayOf("Status"));
    expect(many.json.map((s: any) => s.id)).toEqual([pub.id, direct.id]);
  });

  test("context: ancestors and descendants, a private reply and everything under it hidden from strangers", async () => {
    const root = (await post("st_alice", { status: "root" })).json;
    const r1 = (await post("st_bob", { status: "r1", in_reply_to_id: root.id })).json;
    const hidden = (await post("st_bob", { status: "hidden", in_reply_to_id: r1.id, visibility: "private" })).json;
    const under = (await post("st_bob", { status: "under hidden", in_reply_to_id: hidden.id })).json;
    const r2 = (await post("st_carol", { status: "r2", in_reply_to_id: root.id })).json;

    const stranger = await call("GET", `/api/v1/statuses/${root.id}/context`, { token: token.st_carol });
    expectMatchesSchema(stranger.json, "Context");
    expect(stranger.json.descendants.map((s: any) => s.id)).toEqual([r1.id, r2.id]);
    const author = await call("GET", `/api/v1/statuses/${root.id}/context`, { token: token.st_bob });
    expect(author.json.descendants.map((s: any) => s.id)).toEqual([r1.id, hidden.id, under.id, r2.id]);

    const fromLeaf = await call("GET", `/api/v1/statuses/${under.id}/context`);
    expect(fromLeaf.json.ancestors.map((s: any) => s.id)).toEqual([root.id, r1.id]);
    expect((await call("GET", `/api/v1/statuses/${hidden.id}/context`)).status).toBe(404);

    // Posts by someone the viewer mutes are left out (Mastodon's StatusFilter); the mute ends, they are back.
    await context.sql`insert into mutes (account_id, target_account_id) values (${carol.id}, ${bob.id})`;
    const muted = await call("GET", `/api/v1/statuses/${root.id}/context`, { token: token.st_carol });
    expect(muted.json.descendants.map((s: any) => s.id)).toEqual([r2.id]);
    await context.sql`delete from mutes where account_id = ${carol.id} and target_account_id = ${bob.id}`;
  });
});

describe("changing", () => {
  test("DELETE: own only, answers with the source for a redraft, media can be attached again", async () => {
    const mediaId = await media(alice);
    const parent = (await post("st_bob", { status: "parent" })).json;
    const before = await accountRow(alice.id);
    const original = (await post("st_alice", { status: "to redraft #gone", media_ids: [mediaId], in_reply_to_id: parent.id })).json;
    expect((await call("DELETE", `/api/v1/statuses/${original.id}`, { token: token.st_bob })).status).toBe(404);
    const deleted = await call("DELETE", `/api/v1/statuses/${original.id}`, { token: token.st_alice });
    expect(deleted.status).toBe(200);
    expectMatchesSchema(deleted.json, "Status");
    expect(deleted.json.text).toBe("to redraft #gone");
    expect(deleted.json.media_attachments.map((m: any) => m.id)).toEqual([mediaId]);
    expect((await call("GET", `/api/v1/statuses/${original.id}`, { token: token.st_alice })).status).toBe(404);
    expect((await call("DELETE", `/api/v1/statuses/${original.id}`, { token: token.st_alice })).status).toBe(404);
    expect((await accountRow(alice.id)).statuses_count).toBe(before.statuses_count);
    expect((await call("GET", `/api/v1/statuses/${parent.id}`)).json.replies_count).toBe(0);
    const redraft = await post("st_alice", { status: deleted.json.text, media_ids: [mediaId] });
    expect(redraft.status).toBe(200);
  });

  test("edit, history and source", async () => {
    const m1 = await media(alice);
    const created = (await post("st_alice", { status: "first #one", media_ids: [m1], poll: undefined })).json;
    expect((await call("PUT", `/api/v1/statuses/${created.id}`, { token: token.st_bob, json: { status: "hijack" } })).status).toBe(404);
    const edited = await call("PUT", `/api/v1/statuses/${created.id}`, {
      token: token.st_alice,
      json: { status: "second #two @st_bob", spoiler_text: "cw", media_ids: [m1], media_attributes: [{ id: m1, description: "a cat", focus: "0.5,-0.5" }] },
    });
    expect(edited.status).toBe(200);
    expectMatchesSchema(edited.json, "Status");
    expect(edited.json.edited_at).not.toBeNull();
    expect(edited.json.tags.map((t: any) => t.name)).toEqual(["two"]);
    expect(edited.json.mentions.map((m: any) => m.id)).toEqual([bob.id]);
    expect(edited.json.media_attachments[0]).toMatchObject({ id: m1, description: "a cat", meta: { focus: { x: 0.5, y: -0.5 } } });
    expect(edited.json.sensitive).toBe(true);

    const third = await call("PUT", `/api/v1/statuses/${created.id}`, { token: token.st_alice, json: { status: "third", poll: { options: ["x", "y"], expires_in: 600 } } });
    expect(third.status).toBe(200);
    expect(third.json.media_attachments).toEqual([]);
    expect(third.json.poll.options.map((o: any) => o.title)).toEqual(["x", "y"]);

    const history = await call("GET", `/api/v1/statuses/${created.id}/history`);
    expect(history.status).toBe(200);
    expectMatchesSchema(history.json, arrayOf("StatusEdit"));
    expect(history.json.map((h: any) => h.content)).toEqual([
      expect.stringContaining("first"),
      expect.stringContaining("second"),
      "<p>third</p>",
    ]);
    expect(history.json[0].media_attachments.map((m: any) => m.id)).toEqual([m1]);
    expect(history.json[2].poll).toEqual({ options: [{ title: "x" }, { title: "y" }] });

    const source = await call("GET", `/api/v1/statuses/${created.id}/source`, { token: token.st_alice });
    expect(source.json).toEqual({ id: created.id, text: "third", spoiler_text: "cw" });
    expectMatchesSchema(source.json, "StatusSource");
    expect((await call("GET", `/api/v1/statuses/${created.id}/source`, { token: token.st_bob })).status).toBe(404);
    expect((await call("PUT", `/api/v1/statuses/${created.id}`, { token: token.st_alice, json: { status: "" } })).status).toBe(422);
  });
});

describe("hostile input", () => {
  test("no 5xx for odd bodies, ids and headers on any statuses door", async () => {
    const own = (await post("st_bob", { status: "target" })).json;
    const bodies: unknown[] = [
      { status: 42 }, { status: ["a"] }, { status: "x", visibility: ["public"] }, { status: "x", sensitive: "maybe" },
      { status: "x", in_reply_to_id: { $gt: 0 } }, { status: "x", in_reply_to_id: -5 }, { status: "x", media_ids: "1" },
      { status: "x", media_ids: [null] }, { status: "x", poll: "yes" }, { status: "x", poll: { options: "a" } },
      { status: "x", poll: { options: ["a", "b"], expires_in: 1e300 } }, { status: "x", poll: { options: [{}, {}], expires_in: 600 } },
      { status: "x", scheduled_at: "2030-99-99" }, { status: "x", scheduled_at: "+275760-09-13T00:00:00Z" }, { status: "x", language: "x".repeat(99) },
      { status: "\u0000\ud800 nul", spoiler_text: "\u0000" }, { status: "x".repeat(200_000) }, { status: `#${"a".repeat(499)}` },
      { status: "@st_bob ".repeat(70) }, { status: "x", media_attributes: [{ id: "1", description: "x".repeat(2000) }] },
    ];
    for (const json of bodies) {
      for (const [method, path] of [["POST", "/api/v1/statuses"], ["PUT", `/api/v1/statuses/${own.id}`]] as const) {
        const { status, json: answer } = await call(method, path, { token: token.st_bob, json });
        expect(status, `${method} ${JSON.stringify(json).slice(0, 80)}`).toBeLessThan(500);
        if (status >= 400) expect(typeof answer.error).toBe("string");
      }
    }
    const huge = await post("st_bob", { status: "k" }, { "idempotency-key": "k".repeat(10_000) });
    expect(huge.status).toBe(200);
    for (const path of ["/api/v1/statuses/1/context", "/api/v1/statuses/abc/history", "/api/v1/statuses/-1/source", "/api/v1/scheduled_statuses/zz", "/api/v1/statuses?id=abc&id[]=1"]) {
      expect((await call("GET", path, { token: token.st_bob })).status).toBeLessThan(500);
    }
  });
});

describe("through masto.js", () => {
  test("v1.statuses.create, fetch, context and remove", async () => {
    const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const masto = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: token.st_carol });
      const created = await masto.v1.statuses.create({ status: "hello from masto #Masto", visibility: "unlisted", spoilerText: "" });
      expect(created.content).toContain("hello from masto");
      expect(created.visibility).toBe("unlisted");
      const reply = await masto.v1.statuses.create({ status: "and a reply", inReplyToId: created.id });
      const fetched = await masto.v1.statuses.$select(created.id).fetch();
      expect(fetched.repliesCount).toBe(1);
      const thread = await masto.v1.statuses.$select(created.id).context.fetch();
      expect(thread.descendants.map((s) => s.id)).toEqual([reply.id]);
      const removed = await masto.v1.statuses.$select(reply.id).remove();
      expect(removed.text).toBe("and a reply");
    } finally {
      await web.stop(true);
    }
  });
});
