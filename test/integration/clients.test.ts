/**
 * Real client libraries against a real listening server: masto.js 8 and megalodon 10 register an app, a
 * "browser" (fetch with a cookie jar, no JavaScript) signs in and authorizes through the HTML forms, the
 * libraries exchange the code (masto with PKCE S256; megalodon's fetchAccessToken has no code_verifier, so
 * its flow runs without PKCE), call verify_credentials and update_credentials, revoke the token and see 401.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createOAuthAPIClient, createRestAPIClient, MastoHttpError } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { Browser, pkce } from "../helpers/browser";
import { testContext, type TestContext } from "../helpers/context";

const PASSWORD = "correct horse battery";
const REDIRECT = "https://client.example/callback";

let context: TestContext;
let web: ReturnType<typeof buildWebApp>;
let base: string;
let email: string;
let username: string;

beforeAll(async () => {
  context = await testContext();
  web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${web.server!.port}`;
  username = "client_tester";
  email = "client_tester@example.com";
  await createLocalAccount(context.sql, context.config, { username, email, password: PASSWORD, confirmed: true });
});

afterAll(async () => {
  await web.stop(true);
  await context.close();
});

describe("masto.js", () => {
  test("register, authorize with PKCE, exchange, verify and update credentials, revoke → 401", async () => {
    const anonymous = createRestAPIClient({ url: base });
    const app = await anonymous.v1.apps.create({ clientName: "masto.js test", redirectUris: REDIRECT, scopes: "read write profile", website: "https://masto.example" });
    expect(app.clientId).toBeTruthy();
    expect(app.clientSecret).toBeTruthy();
    expect(app.name).toBe("masto.js test");

    const { verifier, challenge } = pkce();
    const state = randomBytes(8).toString("hex");
    const query = new URLSearchParams({
      response_type: "code",
      client_id: app.clientId!,
      redirect_uri: REDIRECT,
      scope: "read write profile",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const back = await new Browser(base, { email, password: PASSWORD }).authorize(`/oauth/authorize?${query}`);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe(state);
    const code = back.searchParams.get("code")!;

    const oauth = createOAuthAPIClient({ url: base });
    const tokenParams = { grantType: "authorization_code", clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, code };
    // masto's typings have no codeVerifier, but it sends every parameter snake_cased: code_verifier.
    const token = await oauth.token.create({ ...tokenParams, codeVerifier: verifier } as typeof tokenParams & { grantType: "authorization_code" });
    expect(token.tokenType).toBe("Bearer");
    expect(token.scope).toBe("read write profile");
    expect(typeof token.createdAt).toBe("number");

    const client = createRestAPIClient({ url: base, accessToken: token.accessToken });
    const me = await client.v1.accounts.verifyCredentials();
    expect(me.username).toBe(username);
    expect(me.source).toBeDefined();
    const updated = await client.v1.accounts.updateCredentials({ displayName: "Masto Tester" });
    expect(updated.displayName).toBe("Masto Tester");
    const verifiedApp = await client.v1.apps.verifyCredentials();
    expect(verifiedApp.name).toBe("masto.js test");

    await oauth.revoke({ clientId: app.clientId!, clientSecret: app.clientSecret!, token: token.accessToken });
    const after = await client.v1.accounts.verifyCredentials().catch((error: unknown) => error);
    expect(after).toBeInstanceOf(MastoHttpError);
    expect((after as MastoHttpError).statusCode).toBe(401);
  });

  test("a read-only token calling a write endpoint gets 403; a wrong verifier gets invalid_grant", async () => {
    const app = await createRestAPIClient({ url: base }).v1.apps.create({ clientName: "read only", redirectUris: REDIRECT, scopes: "read write" });
    const { verifier, challenge } = pkce();
    const query = new URLSearchParams({ response_type: "code", client_id: app.clientId!, redirect_uri: REDIRECT, scope: "read", code_challenge: challenge, code_challenge_method: "S256" });
    const browser = new Browser(base, { email, password: PASSWORD });
    const code = (await browser.authorize(`/oauth/authorize?${query}`)).searchParams.get("code")!;
    const oauth = createOAuthAPIClient({ url: base });
    const params = { grantType: "authorization_code" as const, clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, code };

    const wrong = await oauth.token.create({ ...params, codeVerifier: pkce().verifier } as typeof params).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(MastoHttpError);
    expect((wrong as MastoHttpError).statusCode).toBe(400);
    expect((wrong as MastoHttpError).message).toBe("invalid_grant");
    expect((wrong as MastoHttpError).description).toMatch(/code_verifier/);

    const token = await oauth.token.create({ ...params, codeVerifier: verifier } as typeof params);
    expect(token.scope).toBe("read");
    const client = createRestAPIClient({ url: base, accessToken: token.accessToken });
    expect((await client.v1.accounts.verifyCredentials()).username).toBe(username);
    const refused = await client.v1.accounts.updateCredentials({ displayName: "nope" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MastoHttpError);
    expect((refused as MastoHttpError).statusCode).toBe(403);
    expect((refused as MastoHttpError).message).toBe("This action is outside the authorized scopes");
  });
});

describe("megalodon", () => {
  test("registerApp, authorize, fetchAccessToken, verify and update credentials, revokeToken → 401", async () => {
    const anonymous = generator("mastodon", base);
    const app = await anonymous.registerApp("megalodon test", { scopes: ["read", "write"], redirect_uris: REDIRECT, website: "https://megalodon.example" });
    expect(app.client_id).toBeTruthy();
    expect(app.url).toContain("/oauth/authorize?");

    // megalodon builds the authorize URL itself (no state, no PKCE); we follow it like a browser.
    const back = await new Browser(base, { email, password: PASSWORD }).authorize(app.url!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    const code = back.searchParams.get("code")!;

    const token = await anonymous.fetchAccessToken(app.client_id, app.client_secret, code, REDIRECT);
    expect(token.access_token).toBeTruthy();
    expect(token.scope).toBe("read write");

    const client = generator("mastodon", base, token.access_token);
    const me = await client.verifyAccountCredentials();
    expect(me.status).toBe(200);
    expect(me.data.username).toBe(username);
    const updated = await client.updateCredentials({ display_name: "Megalodon Tester", note: "hello" });
    expect(updated.data.display_name).toBe("Megalodon Tester");
    const verifiedApp = await client.verifyAppCredentials();
    expect(verifiedApp.data.name).toBe("megalodon test");

    const revoked = await anonymous.revokeToken(app.client_id, app.client_secret, token.access_token);
    expect(revoked.status).toBe(200);
    const after = await client.verifyAccountCredentials().catch((error: any) => error);
    expect(after?.response?.status).toBe(401);
  });

  test("client_credentials through the token endpoint gives an app token that verify_credentials accepts for apps only", async () => {
    const anonymous = generator("mastodon", base);
    const app = await anonymous.createApp("megalodon app token", { scopes: ["read"], redirect_uris: REDIRECT });
    const response = await fetch(`${base}/oauth/token`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&scope=read",
    });
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    const client = generator("mastodon", base, access_token);
    expect((await client.verifyAppCredentials()).data.name).toBe("megalodon app token");
    const asUser = await client.verifyAccountCredentials().catch((error: any) => error);
    expect(asUser?.response?.status).toBe(422);
  });
});
