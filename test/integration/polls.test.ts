/**
 * Polls through the web app: reading (visibility follows the status; voted / own_votes for the viewer;
 * hidden totals), voting with masto.js and megalodon (once, multiple only when allowed, never one's own or
 * an ended poll, Mastodon's 422 messages), tallies under concurrent votes, and expiry through the scheduler's
 * job: `poll` notifications for voters and author, once. Usernames start with `ca_p`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { closeExpiredPollsJob } from "../../src/features/polls/jobs";
import { homeChannel } from "../../src/features/streaming/channels";
import { RECURRING } from "../../src/scheduler/recurring";
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
  const username = `ca_p${name}_${++counter}_${Date.now().toString(36)}`;
  const { account, token } = await makeTestUser(context, username, { scopes: "read write follow" });
  return { ...account, token: token! };
}

const as = (who: { token: string }) => ({
  get: (path: string) => call("GET", path, { token: who.token }),
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  form: (path: string, form: [string, string][]) => call("POST", path, { token: who.token, form }),
});

async function pollPost(who: User, poll: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ statusId: string; pollId: string }> {
  const response = await as(who).post("/api/v1/statuses", { status: "Which one?", poll: { options: ["Red", "Green", "Blue"], expires_in: 3600, ...poll }, ...extra });
  expect(response.status).toBe(200);
  return { statusId: response.json.id, pollId: response.json.poll.id };
}

const runExpiry = () => closeExpiredPollsJob.handler({}, { ...context, jobId: "test", attempt: 1 });
const end = (pollId: string) => context.sql`update polls set expires_at = now() - interval '1 second' where id = ${pollId}`;

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

describe("voting", () => {
  test("masto.js votes in a single-choice poll; the poll shows voted / own_votes and the tallies", async () => {
    const author = await user("author");
    const voter = await user("voter");
    const { pollId } = await pollPost(author, {});
    const client = createRestAPIClient({ url: base, accessToken: voter.token });
    const before = await client.v1.polls.$select(pollId).fetch();
    expect(before).toMatchObject({ id: pollId, voted: false, ownVotes: [], votesCount: 0, multiple: false, expired: false });
    const after = await client.v1.polls.$select(pollId).votes.create({ choices: [1] });
    expect(after).toMatchObject({ voted: true, ownVotes: [1], votesCount: 1, votersCount: 1 });
    expect(after.options.map((o) => o.votesCount)).toEqual([0, 1, 0]);
    const raw = await as(voter).get(`/api/v1/polls/${pollId}`);
    expectMatchesSchema(raw.json, "Poll");
    // Anonymous readers get the poll without voted / own_votes; the author has always "voted".
    const anon = await call("GET", `/api/v1/polls/${pollId}`);
    expect(anon.status).toBe(200);
    expect("voted" in anon.json).toBe(false);
    expect((await as(author).get(`/api/v1/polls/${pollId}`)).json).toMatchObject({ voted: true, own_votes: [] });
    // The status carries the same poll.
    const status = (await as(voter).get(`/api/v1/statuses/${(await context.sql`select status_id from polls where id = ${pollId}`)[0]!.status_id}`)).json;
    expect(status.poll).toMatchObject({ id: pollId, voted: true, own_votes: [1], votes_count: 1 });
  });

  test("megalodon votes several choices in a multiple-choice poll: votes_count counts choices, voters_count people", async () => {
    const author = await user("mauthor");
    const { pollId } = await pollPost(author, { multiple: true });
    const a = await user("ma");
    const b = await user("mb");
    const poll = (await generator("mastodon", base, a.token).votePoll(pollId, [0, 2])).data;
    expect(poll).toMatchObject({ voted: true, own_votes: [0, 2], votes_count: 2, voters_count: 1 });
    // Form encoding, as Tusky sends it.
    const form = await as(b).form(`/api/v1/polls/${pollId}/votes`, [["choices[]", "2"]]);
    expect(form.status).toBe(200);
    expect(form.json).toMatchObject({ votes_count: 3, voters_count: 2, options: [{ votes_count: 1 }, { votes_count: 0 }, { votes_count: 2 }] });
    expectMatchesSchema(form.json, "Poll");
  });

  test("Mastodon's refusals: own poll, twice, several in a single-choice poll, bad choices, ended poll, invisible or unknown poll", async () => {
    const author = await user("rauthor");
    const voter = await user("rvoter");
    const { pollId } = await pollPost(author, {});
    const vote = (who: User, choices: unknown) => as(who).post(`/api/v1/polls/${pollId}/votes`, { choices });
    const expectError = async (response: Promise<{ status: number; json: { error: string } }>, status: number, error: string) => {
      const r = await response;
      expect([r.status, r.json.error]).toEqual([status, error]);
    };
    await expectError(vote(author, [0]), 422, "Validation failed: You cannot vote in your own polls");
    await expectError(vote(voter, [0, 1]), 422, "Validation failed: You have already voted on this poll");
    await expectError(vote(voter, [3]), 422, "Validation failed: Choice is invalid");
    await expectError(vote(voter, ["-1"]), 422, "Validation failed: Choice is invalid");
    await expectError(vote(voter, []), 400, "param is missing or the value is empty: choices");
    expect((await vote(voter, { evil: true })).status).toBe(422);
    // Nothing was counted by the refused attempts.
    expect((await as(voter).get(`/api/v1/polls/${pollId}`)).json).toMatchObject({ votes_count: 0, voted: false });
    expect((await vote(voter, [2])).status).toBe(200);
    await expectError(vote(voter, [1]), 422, "Validation failed: You have already voted on this poll");

    const late = await user("late");
    await end(pollId);
    await expectError(vote(late, [0]), 422, "Validation failed: The poll has already ended");

    // A followers-only post's poll is invisible to a stranger: 404, as are unknown and malformed ids.
    const hidden = await pollPost(author, {}, { visibility: "private" });
    expect((await as(voter).get(`/api/v1/polls/${hidden.pollId}`)).status).toBe(404);
    expect((await as(voter).post(`/api/v1/polls/${hidden.pollId}/votes`, { choices: [0] })).status).toBe(404);
    for (const id of ["999999999", "abc", "1e5"]) expect((await as(voter).get(`/api/v1/polls/${id}`)).status).toBe(404);
    expect((await call("POST", `/api/v1/polls/${pollId}/votes`, { json: { choices: [0] } })).status).toBe(401);
  });

  test("concurrent votes keep the tallies exact", async () => {
    const author = await user("cauthor");
    const { pollId } = await pollPost(author, { multiple: true });
    const voters = await Promise.all(Array.from({ length: 8 }, (_, i) => user(`cv${i}`)));
    const results = await Promise.all(voters.map((v, i) => as(v).post(`/api/v1/polls/${pollId}/votes`, { choices: i % 2 === 0 ? [0, 1] : [2] })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const poll = (await as(author).get(`/api/v1/polls/${pollId}`)).json;
    expect(poll).toMatchObject({ votes_count: 12, voters_count: 8, options: [{ votes_count: 4 }, { votes_count: 4 }, { votes_count: 4 }] });
    const [counted] = await context.sql<{ n: number }[]>`select count(*)::int as n from poll_votes where poll_id = ${pollId}`;
    expect(counted!.n).toBe(12);
  });

  test("hide_totals hides the counts from everyone but the author until the poll ends", async () => {
    const author = await user("hauthor");
    const voter = await user("hvoter");
    const { pollId } = await pollPost(author, { hide_totals: true });
    const voted = (await as(voter).post(`/api/v1/polls/${pollId}/votes`, { choices: [0] })).json;
    expect(voted.options.map((o: { votes_count: number | null }) => o.votes_count)).toEqual([null, null, null]);
    expect((await as(author).get(`/api/v1/polls/${pollId}`)).json.options[0].votes_count).toBe(1);
    await end(pollId);
    expect((await as(voter).get(`/api/v1/polls/${pollId}`)).json.options[0].votes_count).toBe(1);
  });
});

describe("expiry", () => {
  test("the scheduler's job closes ended polls: `poll` notifications for voters and author, once; the poll reads expired", async () => {
    expect(RECURRING.some((r) => r.job === closeExpiredPollsJob && r.everyMs <= 60_000)).toBe(true);
    const author = await user("eauthor");
    const v1 = await user("ev1");
    const v2 = await user("ev2");
    const bystander = await user("ebystander");
    const { pollId, statusId } = await pollPost(author, {});
    const open = await pollPost(author, {});
    expect((await as(v1).post(`/api/v1/polls/${pollId}/votes`, { choices: [0] })).status).toBe(200);
    expect((await as(v2).post(`/api/v1/polls/${pollId}/votes`, { choices: [1] })).status).toBe(200);
    expect((await as(v1).post(`/api/v1/polls/${open.pollId}/votes`, { choices: [0] })).status).toBe(200);
    // Streams hear a status.update for the closed poll (the author's own channel gets every such event).
    const listener = context.redis.duplicate({ enableOfflineQueue: true });
    const heard: { event: string; statusId: string }[] = [];
    listener.on("message", (_channel: string, raw: string) => heard.push(JSON.parse(raw)));
    await listener.subscribe(homeChannel(context.config.redis.namespace, author.id));
    await end(pollId);
    await runExpiry();
    await runExpiry();
    const until = Date.now() + 2000;
    while (!heard.some((m) => m.event === "status.update") && Date.now() < until) await Bun.sleep(20);
    listener.disconnect();
    expect(heard.filter((m) => m.event === "status.update").map((m) => m.statusId)).toEqual([statusId]);

    const pollNotifications = async (who: User) => ((await as(who).get("/api/v1/notifications?types[]=poll")).json as { type: string; status: { id: string; poll: { expired: boolean } } }[]);
    for (const who of [v1, v2, author]) {
      const list = await pollNotifications(who);
      expect(list.map((n) => [n.type, n.status.id])).toEqual([["poll", statusId]]);
      expect(list[0]!.status.poll.expired).toBe(true);
      expectMatchesSchema(list, arrayOf("Notification"));
    }
    expect(await pollNotifications(bystander)).toEqual([]);
    // The poll still open was left alone.
    const [row] = await context.sql<{ processed: Date | null }[]>`select expiry_processed_at as processed from polls where id = ${open.pollId}`;
    expect(row!.processed).toBeNull();
    expect((await as(v1).get(`/api/v1/polls/${pollId}`)).json).toMatchObject({ expired: true, votes_count: 2 });
  });
  test("two schedulers closing at once notify each person once", async () => {
    const author = await user("cc_author");
    const voter = await user("cc_voter");
    const { pollId, statusId } = await pollPost(author, {});
    expect((await as(voter).post(`/api/v1/polls/${pollId}/votes`, { choices: [2] })).status).toBe(200);
    await end(pollId);
    await Promise.all([runExpiry(), runExpiry(), runExpiry()]);
    for (const who of [voter, author]) {
      const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from notifications where account_id = ${who.id} and type = 'poll' and status_id = ${statusId}`;
      expect(row!.n).toBe(1);
    }
    const [poll] = await context.sql<{ closed: Date | null }[]>`select expiry_processed_at as closed from polls where id = ${pollId}`;
    expect(poll!.closed).not.toBeNull();
  });
});
