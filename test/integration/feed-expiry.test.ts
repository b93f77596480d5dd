/**
 * Home feeds of inactive accounts expire (Mastodon stops feeding users inactive for two weeks and
 * regenerates their feed when they return): every read and rebuild sets the feed's TTL, fan-out neither
 * revives an expired feed nor resets the clock, and the next read rebuilds it from Postgres. Also what
 * undoing a block or a mute does to home feeds, as Mastodon: an unblock nothing by itself (the block cut the
 * follows; following again merges the posts back in), an unmute merges back what fan-out skipped.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import * as graph from "../../src/features/graph/service";
import { reblogStatus } from "../../src/features/interactions/service";
import { postStatus } from "../../src/features/statuses/service";
import { FEED_TTL_SECONDS, feedIds, feedKey } from "../../src/features/timelines/feeds";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
const users: Record<string, { account: LocalAccountRow; token: string }> = {};

async function settle() {
  const queue = context.queues.queue("default");
  for (let i = 0; i < 400; i++) {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
    if (Object.values(counts).every((n) => n === 0)) return;
    await Bun.sleep(20);
  }
  throw new Error("the default queue did not settle");
}

async function home(name: string): Promise<string[]> {
  const response = await app.handle(new Request("http://localhost/api/v1/timelines/home", { headers: { authorization: `Bearer ${users[name]!.token}` } }));
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: string }[]).map((s) => s.id);
}

const key = (name: string) => feedKey(context.config.redis.namespace, users[name]!.account.id);
const post = async (name: string, status: string) => {
  const { statusId } = await postStatus(context, users[name]!.account, { status, visibility: "public" });
  await settle();
  return statusId;
};

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default"], concurrency: 2, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  for (const name of ["pf_fe_reader", "pf_fe_author", "pf_fe_booster", "pf_fe_stranger"]) {
    const made = await makeTestUser(context, name, { scopes: "read write follow" });
    users[name] = { account: made.account, token: made.token! };
  }
  await graph.follow(context, users.pf_fe_reader!.account, users.pf_fe_author!.account, {});
  await graph.follow(context, users.pf_fe_reader!.account, users.pf_fe_booster!.account, {});
  await settle();
});

afterAll(async () => {
  await workers.close(5000);
  await context.close();
});

test("a read (and a rebuild) gives the feed and its boost side-set two weeks to live; fan-out keeps the clock", async () => {
  expect(await context.redis.exists(key("pf_fe_reader"))).toBe(0);
  await home("pf_fe_reader"); // built now
  const ttl = await context.redis.ttl(key("pf_fe_reader"));
  expect(ttl).toBeGreaterThan(FEED_TTL_SECONDS - 60);
  expect(ttl).toBeLessThanOrEqual(FEED_TTL_SECONDS);

  // Shorten the clock as if a week had passed, then fan a post and a boost into the feed.
  await context.redis.expire(key("pf_fe_reader"), 7 * 24 * 3600);
  const original = await post("pf_fe_author", "for the reader");
  // A boost of someone the reader does not follow: it enters the feed and the boost side-set.
  await reblogStatus(context, users.pf_fe_booster!.account, await post("pf_fe_stranger", "boost me"), {});
  await settle();
  expect(await feedIds(context.redis, context.config.redis.namespace, users.pf_fe_reader!.account.id)).toContain(original);
  const after = await context.redis.ttl(key("pf_fe_reader"));
  expect(after).toBeLessThanOrEqual(7 * 24 * 3600);
  expect(after).toBeGreaterThan(7 * 24 * 3600 - 60);
  // The side-set made by the boost lives as long as its feed, never longer.
  const sideTtl = await context.redis.ttl(`${key("pf_fe_reader")}:reblogs`);
  expect(sideTtl).toBeGreaterThan(0);
  expect(sideTtl).toBeLessThanOrEqual(after);

  // Reading again renews both.
  await home("pf_fe_reader");
  expect(await context.redis.ttl(key("pf_fe_reader"))).toBeGreaterThan(FEED_TTL_SECONDS - 60);
  expect(await context.redis.ttl(`${key("pf_fe_reader")}:reblogs`)).toBeGreaterThan(FEED_TTL_SECONDS - 60);
});

test("an expired feed is not revived by fan-out, and the next read rebuilds it with everything", async () => {
  await home("pf_fe_reader");
  const before = await post("pf_fe_author", "before the reader left");
  // Two weeks without a read: the feed expires.
  await context.redis.pexpire(key("pf_fe_reader"), 1);
  await context.redis.pexpire(`${key("pf_fe_reader")}:reblogs`, 1);
  await Bun.sleep(10);
  expect(await context.redis.exists(key("pf_fe_reader"))).toBe(0);
  const meanwhile = await post("pf_fe_author", "while the reader was away");
  expect(await context.redis.exists(key("pf_fe_reader"))).toBe(0); // fan-out skipped the gone feed
  const page = await home("pf_fe_reader");
  expect(page.slice(0, 2)).toEqual([meanwhile, before]);
  expect(await context.redis.ttl(key("pf_fe_reader"))).toBeGreaterThan(FEED_TTL_SECONDS - 60);
});

test("unblock: the block cut the follow, so nothing comes back by itself; following again merges the posts in", async () => {
  const reader = users.pf_fe_reader!;
  const author = users.pf_fe_author!;
  const post1 = await post("pf_fe_author", "before the block");
  expect(await home("pf_fe_reader")).toContain(post1);
  await graph.block(context, reader.account, author.account.id);
  await settle();
  expect(await home("pf_fe_reader")).not.toContain(post1);
  await graph.unblock(context, reader.account, author.account.id);
  await settle();
  // As Mastodon's UnblockService: no follow survives a block, so the home feed gains nothing.
  expect(await home("pf_fe_reader")).not.toContain(post1);
  await graph.follow(context, reader.account, author.account, {});
  await settle();
  expect(await home("pf_fe_reader")).toContain(post1);
});

test("unmute: the posts fan-out skipped while muting are merged back in (Mastodon's UnmuteService), only when following", async () => {
  const reader = users.pf_fe_reader!;
  const author = users.pf_fe_author!;
  const stranger = users.pf_fe_stranger!;
  await graph.mute(context, reader.account, author.account.id, { notifications: true, durationSeconds: 0 });
  await graph.mute(context, reader.account, stranger.account.id, { notifications: true, durationSeconds: 0 });
  const during = await post("pf_fe_author", "while muted");
  const strangers = await post("pf_fe_stranger", "a stranger, muted");
  const feed = () => feedIds(context.redis, context.config.redis.namespace, reader.account.id);
  expect(await feed()).not.toContain(during); // fan-out skipped the muting follower
  expect(await home("pf_fe_reader")).not.toContain(during);
  await graph.unmute(context, reader.account, author.account.id);
  await graph.unmute(context, reader.account, stranger.account.id);
  await settle();
  expect(await feed()).toContain(during);
  expect(await home("pf_fe_reader")).toContain(during);
  // Not followed: nothing to merge.
  expect(await feed()).not.toContain(strangers);
});
