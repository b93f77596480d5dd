/**
 * The sign-in cache (features/auth/sign-in-cache.ts, api/caller.ts): repeated reads with one token cost no
 * query for the token, yet a revoked token, a disabled user or a suspended account stop working at once when
 * the change is made in this process, and within a second when another process makes it (Postgres NOTIFY,
 * migrations/0017_perf.sql; the TTL bounds it in any case). Writes see fresh state.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import postgres from "postgres";
import { buildWebApp } from "../../src/api/app";
import { AUTH_CACHE_TTL_MS } from "../../src/features/auth/sign-in-cache";
import { issueToken } from "../../src/features/auth/tokens";
import type { Sql } from "../../src/infra/db";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
/** Another "process": a pool of its own, whose changes this process only hears about through Postgres. */
let elsewhere: ReturnType<typeof postgres>;

async function call(method: string, path: string, token?: string, body?: Record<string, string>) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body) headers["content-type"] = "application/x-www-form-urlencoded";
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body: body ? new URLSearchParams(body).toString() : undefined }));
  return { status: response.status, json: (await response.json()) as any };
}

/** Poll until the answer has `status`; how long that took, in ms (throws after 3 s). */
async function timeUntil(status: number, path: string, token: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await call("GET", path, token)).status === status) return performance.now() - started;
    if (performance.now() - started > 3000) throw new Error(`${path} never answered ${status}`);
    await Bun.sleep(20);
  }
}

/** Make sure the token is in the cache: the listener is up (first call starts it) and a read remembered it. */
async function warm(token: string) {
  for (let i = 0; i < 20; i++) {
    expect((await call("GET", "/api/v1/accounts/verify_credentials", token)).status).toBe(200);
    await Bun.sleep(10);
  }
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  elsewhere = postgres(context.config.db.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await elsewhere.end();
  await context.close();
});

test("repeated reads with one token send no token or account query", async () => {
  const { token } = await makeTestUser(context, "pf_ac_reader", { scopes: "read" });
  let queries = 0;
  // Only the sign-in lookups count (the endpoint itself may read what it serves).
  const signIn = /oauth_access_tokens|user__id/;
  const counted = postgres(context.config.db.url, {
    max: 2,
    types: {} as never,
    onnotice: () => {},
    debug: (_connection: number, query: string) => void (signIn.test(query) && queries++),
  }) as unknown as Sql;
  const countedApp = buildWebApp({ ...context, sql: counted });
  const read = async () => (await countedApp.handle(new Request("http://localhost/api/v1/accounts/verify_credentials", { headers: { authorization: `Bearer ${token}` } }))).status;
  try {
    expect(await read()).toBe(200);
    expect(queries).toBeGreaterThanOrEqual(2); // a cold sign-in: the token, then its account
    await Bun.sleep(100); // the NOTIFY listener comes up
    expect(await read()).toBe(200);
    queries = 0;
    for (let i = 0; i < 10; i++) expect(await read()).toBe(200);
    expect(queries).toBe(0);
  } finally {
    await counted.end();
  }
});

test("a token revoked through /oauth/revoke is refused by the very next request", async () => {
  const { account } = await makeTestUser(context, "pf_ac_revoked");
  const registered = await call("POST", "/api/v1/apps", undefined, { client_name: "pf cache app", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read" });
  expect(registered.status).toBe(200);
  const [application] = await context.sql<{ id: string }[]>`select id from oauth_applications where client_id = ${registered.json.client_id}`;
  const { token } = await issueToken(context.sql, { userId: account.user.id, applicationId: application!.id, scopes: "read" });
  await warm(token);
  const revoked = await call("POST", "/oauth/revoke", undefined, { client_id: registered.json.client_id, client_secret: registered.json.client_secret, token });
  expect(revoked.status).toBe(200);
  expect((await call("GET", "/api/v1/accounts/verify_credentials", token)).status).toBe(401);
});

test("a token revoked by another process stops working within a second", async () => {
  const { account, token } = await makeTestUser(context, "pf_ac_elsewhere", { scopes: "read" });
  await warm(token!);
  await elsewhere`update oauth_access_tokens set revoked_at = now() where user_id = ${account.user.id}`;
  const took = await timeUntil(401, "/api/v1/accounts/verify_credentials", token!);
  expect(took).toBeLessThan(AUTH_CACHE_TTL_MS);
});

test("a user disabled, or an account suspended, by another process is refused within a second", async () => {
  const disabled = await makeTestUser(context, "pf_ac_disabled", { scopes: "read" });
  const suspended = await makeTestUser(context, "pf_ac_suspended", { scopes: "read" });
  await warm(disabled.token!);
  await warm(suspended.token!);
  await elsewhere`update users set disabled = true where id = ${disabled.account.user.id}`;
  await elsewhere`update accounts set suspended_at = now() where id = ${suspended.account.id}`;
  expect(await timeUntil(403, "/api/v1/accounts/verify_credentials", disabled.token!)).toBeLessThan(AUTH_CACHE_TTL_MS);
  expect(await timeUntil(403, "/api/v1/accounts/verify_credentials", suspended.token!)).toBeLessThan(AUTH_CACHE_TTL_MS);
});

test("even without the NOTIFY, nothing is remembered longer than the TTL", async () => {
  const { account, token } = await makeTestUser(context, "pf_ac_ttl", { scopes: "read" });
  await warm(token!);
  // A change the triggers do not announce (a token's description): the cache may serve it stale, but the
  // token row seen by a request is never older than the TTL.
  await elsewhere`update oauth_access_tokens set description = 'changed' where user_id = ${account.user.id}`;
  await Bun.sleep(AUTH_CACHE_TTL_MS + 50);
  const [row] = await context.sql<{ last_used_at: Date }[]>`select last_used_at from oauth_access_tokens where user_id = ${account.user.id}`;
  expect(row!.last_used_at).not.toBeNull(); // the token was touched (once a minute, not per request)
  expect((await call("GET", "/api/v1/accounts/verify_credentials", token!)).status).toBe(200);
});

test("a write sees fresh state, and so do the reads after it (masto.js)", async () => {
  const { token } = await makeTestUser(context, "pf_ac_writer", { scopes: "read write" });
  const server = Bun.serve({ port: 0, fetch: (request) => app.handle(request) });
  try {
    const client = createRestAPIClient({ url: `http://localhost:${server.port}`, accessToken: token! });
    expect((await client.v1.accounts.verifyCredentials()).statusesCount).toBe(0);
    await client.v1.statuses.create({ status: "counted at once" });
    expect((await client.v1.accounts.verifyCredentials()).statusesCount).toBe(1);
    await client.v1.accounts.updateCredentials({ displayName: "Fresh Name" });
    expect((await client.v1.accounts.verifyCredentials()).displayName).toBe("Fresh Name");
  } finally {
    server.stop(true);
  }
});
