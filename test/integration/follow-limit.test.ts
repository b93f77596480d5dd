/**
 * The `follow` rate-limit family (Mastodon's RateLimiter `follows`: 400 a day per account), counted per
 * user, not per IP or token: another token of the same user shares the count, another user does not.
 * The limit is lowered to 2 here through RATE_LIMITS, as an operator would.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { DEFAULT_LIMITS } from "../../src/api/rate-limit";
import { issueToken } from "../../src/features/auth/tokens";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;

beforeAll(async () => {
  context = await testContext({ RATE_LIMITS_ENABLED: "true", RATE_LIMITS: "follow=2/86400" });
  app = buildWebApp(context);
});
afterAll(() => context.close());

const follow = async (token: string, id: string) =>
  app.handle(new Request(`http://localhost/api/v1/accounts/${id}/follow`, { method: "POST", headers: { authorization: `Bearer ${token}` } }));

test("Mastodon's default: 400 follows a day", () => {
  expect(DEFAULT_LIMITS.follow).toEqual({ limit: 400, periodSeconds: 86_400 });
});

test("the third follow of the day is a 429 with the rate-limit headers; per user, across tokens", async () => {
  const me = await makeTestUser(context, "pf_fl_me", { scopes: "read write follow" });
  const other = await makeTestUser(context, "pf_fl_other", { scopes: "read write follow" });
  const targets = [];
  for (const name of ["pf_fl_t1", "pf_fl_t2", "pf_fl_t3"]) targets.push((await makeTestUser(context, name)).account.id);

  const first = await follow(me.token!, targets[0]!);
  expect(first.status).toBe(200);
  expect(first.headers.get("x-ratelimit-limit")).not.toBeNull();
  expect((await follow(me.token!, targets[1]!)).status).toBe(200);
  // A second token of the same user counts against the same limit.
  const second = (await issueToken(context.sql, { userId: me.account.user.id, applicationId: null, scopes: "follow" })).token;
  const refused = await follow(second, targets[2]!);
  expect(refused.status).toBe(429);
  expect(await refused.json()).toEqual({ error: "Too many requests" });
  expect(refused.headers.get("x-ratelimit-limit")).toBe("2");
  expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
  // Nothing was written by the refused request.
  const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from follows where account_id = ${me.account.id}`;
  expect(row!.n).toBe(2);

  // Someone else is not affected — through masto.js, as a client would follow.
  const server = Bun.serve({ port: 0, fetch: (request) => app.handle(request) });
  try {
    const client = createRestAPIClient({ url: `http://localhost:${server.port}`, accessToken: other.token! });
    expect((await client.v1.accounts.$select(targets[2]!).follow()).following).toBe(true);
  } finally {
    server.stop(true);
  }
});
