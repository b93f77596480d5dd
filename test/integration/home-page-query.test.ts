/**
 * The home page's read-time re-check (timelines/store.ts stillInHome: mutes, blocks, the reply rule,
 * exclusive lists) is folded into the render page query (statuses/store.ts findPage's `where`): a warm home
 * page is one statement, and what it shows is what the separate re-check showed — including a boost whose
 * original is itself in the feed but no longer fit to show alone. The public timeline's page is chosen and
 * read by one statement too (renderSelectedStatuses).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { buildWebApp } from "../../src/api/app";
import { renderSelectedStatuses, renderStatuses } from "../../src/api/entities/status";
import { pageParams, pageWhere } from "../../src/api/pagination";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import * as graph from "../../src/features/graph/service";
import { reblogStatus } from "../../src/features/interactions/service";
import { postStatus } from "../../src/features/statuses/service";
import { beginBuild, feedKey, finishBuild, pad } from "../../src/features/timelines/feeds";
import { homePage, publicPage } from "../../src/features/timelines/service";
import type { AppContext } from "../../src/infra/context";
import type { Sql } from "../../src/infra/db";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const users: Record<string, { account: LocalAccountRow; token: string }> = {};

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  for (const name of ["ph_reader", "ph_friend", "ph_stranger", "ph_loud", "ph_member"]) {
    const made = await makeTestUser(context, name, { scopes: "read write follow" });
    users[name] = { account: made.account, token: made.token! };
  }
  const reader = users.ph_reader!.account;
  // No workers run here: the follows' merge jobs stay queued, and the feed is written by hand below.
  for (const name of ["ph_friend", "ph_loud", "ph_member"]) await graph.follow(context, reader, users[name]!.account, {});
});
afterAll(() => context.close());

/** Make the reader's feed exactly `ids` (newest first), bypassing fan-out's own rules. */
async function setFeed(ids: string[]) {
  const ns = context.config.redis.namespace;
  const reader = users.ph_reader!.account.id;
  await beginBuild(context.redis, ns, reader, true);
  await context.redis.zadd(feedKey(ns, reader), ...ids.flatMap((id) => [0, pad(id)]));
  await finishBuild(context.redis, ns, reader);
}

async function homeIds(): Promise<{ ids: string[]; json: any[]; link: string | null }> {
  const response = await app.handle(new Request("http://localhost/api/v1/timelines/home", { headers: { authorization: `Bearer ${users.ph_reader!.token}` } }));
  expect(response.status).toBe(200);
  const json = (await response.json()) as any[];
  return { ids: json.map((s) => s.id), json, link: response.headers.get("link") };
}

test("a boost shows with its original even when that original, also in the feed, is not fit to show alone", async () => {
  const { friend, stranger } = { friend: users.ph_friend!.account, stranger: users.ph_stranger!.account };
  const { statusId: strangers } = await postStatus(context, stranger, { status: "ph: a stranger speaks", visibility: "public" });
  // A reply to someone the reader does not follow: never in the reader's home on its own (the reply rule).
  const { statusId: reply } = await postStatus(context, friend, { status: "@ph_stranger ph: a reply", visibility: "public", in_reply_to_id: strangers });
  const { reblogId: boostId } = await reblogStatus(context, friend, reply);
  await setFeed([boostId, reply]);
  const page = await homeIds();
  expect(page.ids).toEqual([boostId]);
  expect(page.json[0].reblog.id).toBe(reply);
  // The cursors still cover the whole feed page, the unfit original included.
  expect(page.link).toContain(`max_id=${reply}`);
});

test("a mute, a block and an exclusive list made after fan-out apply at once, and a warm page is one statement", async () => {
  const reader = users.ph_reader!.account;
  const { friend, loud, member } = { friend: users.ph_friend!.account, loud: users.ph_loud!.account, member: users.ph_member!.account };
  const { statusId: friends } = await postStatus(context, friend, { status: "ph: friend", visibility: "public" });
  const { statusId: louds } = await postStatus(context, loud, { status: "ph: loud", visibility: "public" });
  const { statusId: members } = await postStatus(context, member, { status: "ph: member", visibility: "public" });
  const { reblogId: boostOfLoud } = await reblogStatus(context, friend, louds);
  const { statusId: own } = await postStatus(context, reader, { status: "ph: mine", visibility: "public" });
  await setFeed([own, boostOfLoud, members, louds, friends]);
  expect((await homeIds()).ids).toEqual([own, boostOfLoud, members, louds, friends]);

  // Count the statements of a warm page (feed read + render), with postgres.js's debug hook on a pool of our own.
  let queries = 0;
  const counted = postgres(context.config.db.url, { max: 2, types: {} as never, onnotice: () => {}, debug: () => void queries++ }) as unknown as Sql;
  const countedContext: AppContext = { ...context, sql: counted };
  try {
    await Promise.all([1, 2].map(() => counted`select pg_sleep(0.02)`)); // open the connections first
    const page = async () => {
      const home = await homePage(countedContext, reader.id, { limit: 20 });
      return (await renderStatuses(countedContext, reader, home.ids, { where: home.where })).map((s) => s.id);
    };
    expect(await page()).toEqual([own, boostOfLoud, members, louds, friends]);
    // The first page also starts the pool's custom-emoji listener, which empties the render caches once it is
    // connected (it may have missed changes): let it connect, warm the caches again, then count.
    await Bun.sleep(100);
    await page();
    queries = 0;
    expect(await page()).toEqual([own, boostOfLoud, members, louds, friends]);
    expect(queries).toBe(1);

    // Muting ph_loud hides its post and the boost of it, at once (the feed still holds both).
    await graph.mute(context, reader, loud.id, { notifications: true, durationSeconds: 0 });
    expect(await page()).toEqual([own, members, friends]);
    // An exclusive list hides its members' posts from home.
    const [list] = await context.sql<{ id: string }[]>`insert into lists (account_id, title, exclusive) values (${reader.id}, 'ph list', true) returning id`;
    await context.sql`insert into list_accounts (list_id, account_id, follow_id)
      select ${list!.id}, ${member.id}, f.id from follows f where f.account_id = ${reader.id} and f.target_account_id = ${member.id}`;
    expect(await page()).toEqual([own, friends]);
    // Blocked by the friend: its post goes too; the reader's own post always stays.
    await graph.block(context, friend, reader.id);
    expect(await page()).toEqual([own]);
    expect((await homeIds()).ids).toEqual([own]);
  } finally {
    await counted.end({ timeout: 2 });
  }
});

test("a public page is one statement, newest first whatever the paging, and its Link cursors are the page's ids", async () => {
  const author = users.ph_member!.account;
  const posted: string[] = [];
  for (let i = 0; i < 5; i++) posted.push((await postStatus(context, author, { status: `ph public ${i}`, visibility: "public" })).statusId);
  const newestFirst = [...posted].reverse();

  let queries = 0;
  const counted = postgres(context.config.db.url, { max: 2, types: {} as never, onnotice: () => {}, debug: () => void queries++ }) as unknown as Sql;
  const countedContext: AppContext = { ...context, sql: counted };
  try {
    await Promise.all([1, 2].map(() => counted`select pg_sleep(0.02)`));
    const page = async (query: Record<string, string>) => {
      const params = pageParams(query, 20);
      return renderSelectedStatuses(countedContext, undefined, publicPage(countedContext, null, { local: true }, pageWhere(counted, counted`s.id`, params)));
    };
    // min_id reads oldest first (the two just above posted[1]); the page still comes newest first.
    await page({ min_id: posted[1]!, limit: "2" });
    // The first page also starts the pool's custom-emoji listener (one LISTEN, and the caches emptied once it
    // is connected): let it connect, warm the caches again, then count.
    await Bun.sleep(100);
    await page({ min_id: posted[1]!, limit: "2" });
    queries = 0;
    const forward = await page({ min_id: posted[1]!, limit: "2" });
    expect(queries).toBe(1);
    expect(forward.ids).toEqual([posted[3]!, posted[2]!]);
    expect(forward.statuses.map((s) => s.id)).toEqual(forward.ids);
    const back = await page({ max_id: posted[4]!, limit: "3" });
    expect(back.ids).toEqual(newestFirst.slice(1, 4));
  } finally {
    await counted.end({ timeout: 2 });
  }

  // Over HTTP: the Link header's cursors are the page's first and last ids.
  const response = await app.handle(new Request(`http://localhost/api/v1/timelines/public?local=true&limit=2&max_id=${posted[4]}`));
  const json = (await response.json()) as { id: string }[];
  expect(json.map((s) => s.id)).toEqual([posted[3]!, posted[2]!]);
  const link = response.headers.get("link")!;
  expect(link).toContain(`max_id=${posted[2]}`);
  expect(link).toContain(`min_id=${posted[3]}`);
});
