/**
 * The compiled-filter cache across processes (features/filters/cache.ts): a process uses its copy without
 * asking Redis while Postgres notifications are heard, and a change made by another process — here a real
 * `woolly web` child process, and this test process in the other direction — shows within milliseconds, well
 * before the TRUST_MS backstop would have made it show.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { compiledFiltersFor, TRUST_MS } from "../../src/features/filters/cache";
import { follow } from "../../src/features/graph/service";
import { postStatus } from "../../src/features/statuses/service";
import { freePort, spawnWoolly, waitFor, waitForHealthy } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let web: ReturnType<typeof spawnWoolly>;
let port: number;

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  port = await freePort();
  web = spawnWoolly(["web", "--port", String(port)], { LOG_LEVEL: "error" });
  await waitForHealthy(port);
});

afterAll(async () => {
  web.kill("SIGTERM");
  await web.exited;
  await context.close();
});

/** Faster than the backstop, so only the notification can make a change show in time. */
const IN_TIME = Math.min(2000, TRUST_MS / 2);

type Caller = (method: string, path: string, token: string, json?: unknown) => Promise<{ status: number; json: any }>;
const here: Caller = async (method, path, token, json) => {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (json !== undefined) headers["content-type"] = "application/json";
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) }));
  return { status: response.status, json: await response.json() };
};
const there: Caller = async (method, path, token, json) => {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (json !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  return { status: response.status, json: await response.json() };
};

/** How `statusId` shows in the home timeline through `via`: "hidden", or its filter titles ("" when none). */
async function shownAs(via: Caller, token: string, statusId: string): Promise<string> {
  const home = await via("GET", "/api/v1/timelines/home", token);
  expect(home.status).toBe(200);
  const status = (home.json as { id: string; filtered: { filter: { title: string } }[] }[]).find((s) => s.id === statusId);
  return status ? status.filtered.map((f) => f.filter.title).join(",") : "hidden";
}

/** Count the Redis GETs (the version reads) `run` makes on this process's client. */
async function redisGets(run: () => Promise<unknown>): Promise<number> {
  const original = context.redis.get.bind(context.redis);
  let gets = 0;
  context.redis.get = ((...args: Parameters<typeof original>) => {
    gets++;
    return original(...args);
  }) as typeof context.redis.get;
  try {
    await run();
  } finally {
    context.redis.get = original as typeof context.redis.get;
  }
  return gets;
}

test("while notifications are heard, a read of the filters costs no Redis round trip", async () => {
  const { account } = await makeTestUser(context, "ph_fc_quiet");
  // The first reads start the listener; once it is up (and the copy loaded after), reads are free.
  await waitFor(async () => (await redisGets(() => compiledFiltersFor(context, account.id))) === 0, 5000, 20);
  expect(await redisGets(() => compiledFiltersFor(context, account.id))).toBe(0);
});

test("a filter changed through one process shows at once through another, both ways", async () => {
  const { account, token } = await makeTestUser(context, "ph_fc_user", { scopes: "read write" });
  // Filters never apply to one's own posts: the post is someone else's, followed before the feed is first built.
  const { account: author } = await makeTestUser(context, "ph_fc_author");
  await follow(context, account, author, {});
  const { statusId } = await postStatus(context, author, { status: "ph the secret word", visibility: "public" });

  // Both processes have read the (empty) filters and trust their copies.
  for (let i = 0; i < 5; i++) {
    expect(await shownAs(there, token!, statusId)).toBe("");
    expect(await shownAs(here, token!, statusId)).toBe("");
    await Bun.sleep(20);
  }

  // Made here: the child process shows it.
  const created = await here("POST", "/api/v2/filters", token!, { title: "ph secret", context: ["home"], filter_action: "warn", keywords_attributes: [{ keyword: "secret" }] });
  expect(created.status).toBe(200);
  expect(await shownAs(here, token!, statusId)).toBe("ph secret");
  await waitFor(async () => (await shownAs(there, token!, statusId)) === "ph secret", IN_TIME, 10);

  // Warm both copies again, then change it through the child: this process shows it.
  expect(await shownAs(here, token!, statusId)).toBe("ph secret");
  const updated = await there("PUT", `/api/v2/filters/${created.json.id}`, token!, { filter_action: "hide" });
  expect(updated.status).toBe(200);
  expect(await shownAs(there, token!, statusId)).toBe("hidden");
  await waitFor(async () => (await shownAs(here, token!, statusId)) === "hidden", IN_TIME, 10);

  // Deleted here: the child shows the status unfiltered again.
  expect((await here("DELETE", `/api/v2/filters/${created.json.id}`, token!)).status).toBe(200);
  await waitFor(async () => (await shownAs(there, token!, statusId)) === "", IN_TIME, 10);
}, 30_000);
