/** The endpoint declaration: tokens, scopes, user state, roles and rate limits, enforced the way Mastodon does. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import * as v from "valibot";
import { baseApp } from "../../src/api/app";
import { routes } from "../../src/api/endpoint";
import { modifyLocalAccount } from "../../src/features/accounts/service";
import { issueToken, revokeToken } from "../../src/features/auth/tokens";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: Elysia<any, any, any, any, any, any, any>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  context = await testContext({ RATE_LIMITS_ENABLED: "true", RATE_LIMITS: "api=5/3600" });
  const make = async (username: string, options: { confirmed?: boolean; role?: "User" | "Admin" } = {}) => (await makeTestUser(context, username, options)).account;
  const alice = await make("endpoint_alice");
  const pending = await make("endpoint_pending", { confirmed: false });
  const admin = await make("endpoint_admin", { role: "Admin" });
  tokens.alice = (await issueToken(context.sql, { userId: alice.user.id, applicationId: null, scopes: "read write" })).token;
  tokens.aliceReadOnly = (await issueToken(context.sql, { userId: alice.user.id, applicationId: null, scopes: "read" })).token;
  tokens.pending = (await issueToken(context.sql, { userId: pending.user.id, applicationId: null, scopes: "read write" })).token;
  tokens.admin = (await issueToken(context.sql, { userId: admin.user.id, applicationId: null, scopes: "read write admin:read" })).token;
  tokens.app = (await issueToken(context.sql, { userId: null, applicationId: null, scopes: "read" })).token;

  app = new Elysia().use(baseApp(context, "endpoint-test-base")).use(
    routes(context, "endpoint-test", (r) => {
      r.get("/api/test/whoami", { auth: "user", scopes: ["read", "read:accounts"] }, ({ caller }) => ({ username: caller.account!.username }));
      r.post("/api/test/write", { auth: "user", scopes: ["write:statuses"], body: v.object({ text: v.string() }) }, ({ input }) => input.body);
      r.get("/api/test/public", { auth: "optional" }, ({ caller }) => ({ signedIn: caller !== undefined }));
      r.get("/api/test/app", { auth: "app", scopes: ["read"] }, () => ({ ok: true }));
      r.get("/api/test/admin", { auth: "user", scopes: ["admin:read"], role: "Admin" }, () => ({ ok: true }));
    }),
  );
});
afterAll(() => context.close());

const call = (path: string, token?: string, init: RequestInit = {}) =>
  app.handle(new Request(`http://localhost${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } }));
const body = async (response: Response) => ({ status: response.status, json: (await response.json()) as Record<string, unknown> });

describe("who may call", () => {
  test("a user token with the scope gets in", async () => {
    expect(await body(await call("/api/test/whoami", tokens.alice))).toEqual({ status: 200, json: { username: "endpoint_alice" } });
  });

  test("no token, garbage token, revoked token", async () => {
    expect(await body(await call("/api/test/whoami"))).toEqual({ status: 401, json: { error: "This method requires an authenticated user" } });
    expect(await body(await call("/api/test/whoami", "garbage"))).toEqual({ status: 401, json: { error: "The access token is invalid" } });
    const { token } = await issueToken(context.sql, { userId: null, applicationId: null, scopes: "read" });
    await revokeToken(context.sql, token);
    expect((await call("/api/test/public", token)).status).toBe(401);
  });

  test("scope refusal, app token on a user endpoint, unconfirmed user, disabled user, role", async () => {
    const write = (token: string) => call("/api/test/write", token, { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"x"}' });
    expect(await body(await write(tokens.aliceReadOnly!))).toEqual({ status: 403, json: { error: "This action is outside the authorized scopes" } });
    expect((await write(tokens.alice!)).status).toBe(200);
    expect((await call("/api/test/whoami", tokens.app)).status).toBe(422);
    expect((await call("/api/test/app", tokens.app)).status).toBe(200);
    expect(await body(await call("/api/test/whoami", tokens.pending))).toEqual({ status: 403, json: { error: "Your login is missing a confirmed e-mail address" } });
    expect((await call("/api/test/admin", tokens.alice)).status).toBe(403);
    expect((await call("/api/test/admin", tokens.admin)).status).toBe(200);
    await modifyLocalAccount(context.sql, "endpoint_admin", { disabled: true });
    expect(await body(await call("/api/test/admin", tokens.admin))).toEqual({ status: 403, json: { error: "Your login is currently disabled" } });
  });

  test("optional auth reads a token when one is sent", async () => {
    expect((await body(await call("/api/test/public"))).json).toEqual({ signedIn: false });
    expect((await body(await call("/api/test/public", tokens.alice))).json).toEqual({ signedIn: true });
    expect((await call("/api/test/public?access_token=" + tokens.alice)).status).toBe(200);
  });
});

describe("rate limits", () => {
  test("headers on every API answer, 429 beyond the limit, counted per token", async () => {
    const { token } = await issueToken(context.sql, { userId: null, applicationId: null, scopes: "read" });
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await call("/api/test/app", token);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-ratelimit-limit")).toBe("5");
      expect(Date.parse(response.headers.get("x-ratelimit-reset")!)).toBeGreaterThan(Date.now());
      remaining.push(response.headers.get("x-ratelimit-remaining")!);
    }
    expect(remaining).toEqual(["4", "3", "2", "1", "0"]);
    const over = await call("/api/test/app", token);
    expect(await body(over)).toEqual({ status: 429, json: { error: "Too many requests" } });
    expect(over.headers.get("x-ratelimit-remaining")).toBe("0");
    // another token has its own budget
    const other = await issueToken(context.sql, { userId: null, applicationId: null, scopes: "read" });
    expect((await call("/api/test/app", other.token)).status).toBe(200);
  });
});
