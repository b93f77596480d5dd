/**
 * OAuth 2 and the HTML pages, in-process: app registration, the authorize → sign-in → consent → code →
 * token flow with PKCE, every token-endpoint refusal, revocation, userinfo, discovery, CORS, and the
 * account pages (sign in/out, sign up, confirmation, password reset) with CSRF and without leaks.
 * A tiny cookie-carrying "browser" drives the forms the way a person's browser would.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, modifyLocalAccount } from "../../src/features/accounts/service";
import { setSetting } from "../../src/features/settings/service";
import { waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const ORIGIN = "http://localhost";
const PASSWORD = "correct horse battery";
const REDIRECT = "https://client.example/callback";
const OOB = "urn:ietf:wg:oauth:2.0:oob";

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────────

const send = (request: Request) => app.handle(request);

function unescapeHtml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** The hidden inputs of a page's forms (the last value wins), CSRF token included. */
function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1]!] = unescapeHtml(match[2]!);
  return fields;
}

/** Keeps cookies like a browser (per name; Max-Age=0 deletes) and never follows redirects by itself. */
class Browser {
  cookies = new Map<string, string>();
  setCookieHeaders: string[] = [];

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await send(new Request(path.startsWith("http") ? path : ORIGIN + path, { ...init, headers }));
    for (const header of response.headers.getSetCookie()) {
      this.setCookieHeaders.push(header);
      const [pair] = header.split(";");
      const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
      if (/Max-Age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get(path: string) {
    return this.request(path);
  }

  post(path: string, fields: Record<string, string>) {
    return this.request(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
  }

  /** GET a page, then POST its form with its hidden fields plus `fields`. */
  async submit(pagePath: string, action: string, fields: Record<string, string>): Promise<Response> {
    const page = await (await this.get(pagePath)).text();
    return this.post(action, { ...hiddenFields(page), ...fields });
  }

  async signIn(email: string, password = PASSWORD, returnTo?: string): Promise<Response> {
    const query = returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : "";
    return this.submit(`/auth/sign_in${query}`, "/auth/sign_in", { email, password });
  }
}

async function json(response: Response): Promise<any> {
  return response.json();
}

function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return send(new Request(ORIGIN + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) }));
}

function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return send(
    new Request(ORIGIN + path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(fields).toString() }),
  );
}

function bearer(path: string, token: string, init: RequestInit = {}) {
  return send(new Request(ORIGIN + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } }));
}

interface RegisteredApp {
  id: string;
  client_id: string;
  client_secret: string;
  name: string;
}

async function registerApp(options: { name?: string; redirectUris?: string | string[]; scopes?: string; website?: string } = {}): Promise<RegisteredApp> {
  const response = await postJson("/api/v1/apps", {
    client_name: options.name ?? "Test client",
    redirect_uris: options.redirectUris ?? REDIRECT,
    scopes: options.scopes ?? "read write profile",
    website: options.website,
  });
  expect(response.status).toBe(200);
  return json(response);
}

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function authorizePath(client: RegisteredApp, params: Record<string, string> = {}) {
  return `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT, ...params })}`;
}

let userCount = 0;
async function makeUser(options: { confirmed?: boolean; approved?: boolean } = {}) {
  const username = `oauth_user_${++userCount}`;
  const email = `${username}@example.com`;
  const { account } = await createLocalAccount(context.sql, context.config, {
    username,
    email,
    password: PASSWORD,
    confirmed: options.confirmed ?? true,
    approved: options.approved ?? true,
  });
  return { account, username, email };
}

/** Sign in, authorize (consent if asked) and return the code from the redirect. */
async function obtainCode(browser: Browser, client: RegisteredApp, params: Record<string, string> = {}): Promise<{ code: string; location: URL }> {
  const path = authorizePath(client, params);
  let response = await browser.get(path);
  if (response.status === 200) {
    const page = await response.text();
    response = await browser.post("/oauth/authorize", { ...hiddenFields(page), decision: "approve" });
  }
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get("location")!);
  return { code: location.searchParams.get("code")!, location };
}

function exchange(client: RegisteredApp, fields: Record<string, string>) {
  return postForm("/oauth/token", { grant_type: "authorization_code", client_id: client.client_id, client_secret: client.client_secret, redirect_uri: REDIRECT, ...fields });
}

/** The newest mail job for an address on the `mailers` queue (the worker may not run in tests). */
async function mailFor(to: string, template: string): Promise<{ link: string } | undefined> {
  const jobs = await context.queues.queue("mailers").getJobs(["wait", "delayed", "active", "completed", "failed"]);
  const matching = jobs.filter((job) => job?.data?.to === to && job.data.template === template).sort((a, b) => b.timestamp - a.timestamp);
  return matching[0]?.data;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
});
afterAll(() => context.close());

// ── apps ───────────────────────────────────────────────────────────────────────────────────────────────

describe("POST /api/v1/apps", () => {
  test("registers an app: Mastodon's Application entity with the secret, once; stored hashed", async () => {
    const response = await postJson("/api/v1/apps", {
      client_name: "My app",
      redirect_uris: `${REDIRECT}\n${OOB}`,
      scopes: "read write:statuses",
      website: "https://app.example",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const body = await json(response);
    expect(body).toEqual({
      id: expect.stringMatching(/^\d+$/),
      name: "My app",
      website: "https://app.example",
      scopes: ["read", "write:statuses"],
      redirect_uri: `${REDIRECT}\n${OOB}`,
      redirect_uris: [REDIRECT, OOB],
      vapid_key: "",
      client_id: expect.any(String),
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
    });
    const [row] = await context.sql`select client_secret from oauth_applications where id = ${body.id}`;
    expect(row!.client_secret).not.toBe(body.client_secret);
    expect(row!.client_secret).toBe(createHash("sha256").update(body.client_secret).digest("hex"));
  });

  test("redirect_uris as an array (JSON or form a[]=), scopes default to read", async () => {
    const fromJson = await json(await postJson("/api/v1/apps", { client_name: "a", redirect_uris: [REDIRECT, "myapp://cb"] }));
    expect(fromJson.redirect_uris).toEqual([REDIRECT, "myapp://cb"]);
    expect(fromJson.scopes).toEqual(["read"]);
    const form = new URLSearchParams([["client_name", "b"], ["redirect_uris[]", "com.example.app:/oauth"], ["redirect_uris[]", OOB], ["scopes", "read write"]]);
    const fromForm = await json(await postFormRaw(form));
    expect(fromForm.redirect_uris).toEqual(["com.example.app:/oauth", OOB]);
    expect(fromForm.scopes).toEqual(["read", "write"]);
  });

  test("validation: 422 with Mastodon's message, never a 500", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ client_name: "x", redirect_uris: REDIRECT, scopes: "read bogus" }, /Scopes contains unknown scopes: bogus/],
      [{ client_name: "x", redirect_uris: "/relative" }, /Redirect URI must be an absolute URI/],
      [{ client_name: "x", redirect_uris: "https://a.example/cb#frag" }, /fragment/],
      [{ client_name: "x", redirect_uris: "javascript:alert(1)" }, /forbidden scheme/],
      [{ client_name: "x" }, /Redirect URI can't be blank/],
      [{ redirect_uris: REDIRECT }, /Application name can't be blank/],
      [{ client_name: "n".repeat(61), redirect_uris: REDIRECT }, /Application name is too long/],
      [{ client_name: "x", redirect_uris: REDIRECT, website: "not a url" }, /Website/],
      [{ client_name: 5, redirect_uris: REDIRECT }, /client_name/],
      [{ client_name: "x", redirect_uris: { a: 1 } }, /redirect_uris/],
    ];
    for (const [body, message] of cases) {
      const response = await postJson("/api/v1/apps", body);
      expect(response.status).toBe(422);
      expect((await json(response)).error).toMatch(message);
    }
    const broken = await send(new Request(`${ORIGIN}/api/v1/apps`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }));
    expect(broken.status).toBe(400);
  });

  test("app registration is rate limited per IP (app_registration)", async () => {
    const limited = await testContext({ RATE_LIMITS_ENABLED: "true", RATE_LIMITS: "app_registration=2/3600" });
    const limitedApp = buildWebApp(limited);
    try {
      const register = () =>
        limitedApp.handle(new Request(`${ORIGIN}/api/v1/apps`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ client_name: "x", redirect_uris: OOB }) }));
      expect([(await register()).status, (await register()).status]).toEqual([200, 200]);
      const third = await register();
      expect(third.status).toBe(429);
      expect(await third.json()).toEqual({ error: "Too many requests" });
    } finally {
      await limited.close();
    }
  });

  test("GET /api/v1/apps/verify_credentials: the token's app, without its secret", async () => {
    const client = await registerApp({ name: "Verify me" });
    const token = await json(await postForm("/oauth/token", { grant_type: "client_credentials", client_id: client.client_id, client_secret: client.client_secret, scope: "read" }));
    const response = await bearer("/api/v1/apps/verify_credentials", token.access_token);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.name).toBe("Verify me");
    expect(body.client_secret).toBeUndefined();
    expect(body.client_id).toBeUndefined();
    expect((await send(new Request(`${ORIGIN}/api/v1/apps/verify_credentials`))).status).toBe(401);
  });
});

async function postFormRaw(form: URLSearchParams) {
  return send(new Request(`${ORIGIN}/api/v1/apps`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() }));
}

// ── /oauth/authorize ───────────────────────────────────────────────────────────────────────────────────

describe("GET /oauth/authorize", () => {
  test("unknown client or unregistered redirect_uri: an HTML error page, never a redirect", async () => {
    const client = await registerApp();
    const browser = new Browser();
    for (const path of [
      authorizePath({ ...client, client_id: "nope" }),
      authorizePath(client, { redirect_uri: "https://evil.example/steal" }),
      `/oauth/authorize?response_type=code&client_id=${client.client_id}`,
    ]) {
      const response = await browser.get(path);
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(await response.text()).toContain("Authorization failed");
    }
  });

  test("other bad parameters go back to the app with error and state", async () => {
    const client = await registerApp({ scopes: "read" });
    const browser = new Browser();
    const cases: [Record<string, string>, string][] = [
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ scope: "write" }, "invalid_scope"],
      [{ scope: "read nonsense" }, "invalid_scope"],
      [{ code_challenge: pkce().challenge, code_challenge_method: "plain" }, "invalid_request"],
      [{ code_challenge: pkce().challenge }, "invalid_request"],
      [{ code_challenge: "short", code_challenge_method: "S256" }, "invalid_request"],
    ];
    for (const [params, error] of cases) {
      const response = await browser.get(authorizePath(client, { state: "xyz", ...params }));
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get("location")!);
      expect(location.origin + location.pathname).toBe(REDIRECT);
      expect(location.searchParams.get("error")).toBe(error);
      expect(location.searchParams.get("state")).toBe("xyz");
    }
  });

  test("the whole flow: sign in, consent, code with state, PKCE exchange; then consent is skipped", async () => {
    const { email, account } = await makeUser();
    const client = await registerApp({ name: "Flow <b>app</b>", website: "https://flow.example" });
    const browser = new Browser();
    const { verifier, challenge } = pkce();
    const path = authorizePath(client, { scope: "read profile", state: "st&te=1", code_challenge: challenge, code_challenge_method: "S256" });

    const first = await browser.get(path);
    expect(first.status).toBe(302);
    const signInLocation = first.headers.get("location")!;
    expect(signInLocation.startsWith("/auth/sign_in?return_to=")).toBe(true);
    const returnTo = new URL(signInLocation, ORIGIN).searchParams.get("return_to")!;
    expect(returnTo.startsWith("/oauth/authorize?")).toBe(true);

    const signedIn = await browser.signIn(email, PASSWORD, returnTo);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe(returnTo);
    const sessionCookie = browser.setCookieHeaders.find((h) => h.startsWith("_woolly_session="))!;
    expect(sessionCookie).toContain("HttpOnly");
    expect(sessionCookie).toContain("SameSite=Lax");
    expect(sessionCookie).toContain("Path=/");
    expect(sessionCookie).toContain(`Max-Age=${14 * 24 * 3600}`);
    expect(sessionCookie).not.toContain("Secure"); // LOCAL_HTTPS=false and plain http
    const [user] = await context.sql`select last_sign_in_at, last_sign_in_ip from users where id = ${account.user.id}`;
    expect(user!.last_sign_in_at).not.toBeNull();
    const [session] = await context.sql`select token_hash from web_sessions where user_id = ${account.user.id}`;
    expect(session!.token_hash).toBe(createHash("sha256").update(browser.cookies.get("_woolly_session")!).digest("hex"));

    const consent = await browser.get(returnTo);
    expect(consent.status).toBe(200);
    expect(consent.headers.get("x-frame-options")).toBe("DENY");
    const page = await consent.text();
    expect(page).toContain("Flow &lt;b&gt;app&lt;/b&gt;");
    expect(page).not.toContain("<b>app</b>");
    expect(page).toContain("https://flow.example");
    expect(page).toContain("Read all your account");
    expect(page).toContain("Read your basic profile information only");
    expect(page).toMatch(/<html lang="en">/);
    expect(page.match(/<h1>/g)?.length).toBe(1);

    const approved = await browser.post("/oauth/authorize", { ...hiddenFields(page), decision: "approve" });
    expect(approved.status).toBe(302);
    const location = new URL(approved.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("st&te=1");
    const code = location.searchParams.get("code")!;
    const [grant] = await context.sql`select code_hash, expires_at - created_at as ttl from oauth_access_grants where user_id = ${account.user.id}`;
    expect(grant!.code_hash).toBe(createHash("sha256").update(code).digest("hex"));

    const token = await exchange(client, { code, code_verifier: verifier });
    expect(token.status).toBe(200);
    expect(token.headers.get("cache-control")).toBe("no-store");
    const body = await json(token);
    expect(body).toEqual({ access_token: expect.any(String), token_type: "Bearer", scope: "read profile", created_at: expect.any(Number) });
    expect(Math.abs(body.created_at - Date.now() / 1000)).toBeLessThan(60);

    const info = await bearer("/oauth/userinfo", body.access_token);
    expect(info.status).toBe(200);
    const claims = await json(info);
    expect(claims).toEqual({
      iss: "http://woolly.test/",
      sub: account.uri,
      name: account.display_name,
      preferred_username: account.username,
      profile: account.url,
      picture: expect.stringMatching(/^http:\/\/woolly\.test\//),
    });
    expect(claims.email).toBeUndefined();

    // Same app, same scopes: no consent page this time (Mastodon's matching-token rule).
    const again = await browser.get(path);
    expect(again.status).toBe(302);
    expect(new URL(again.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    // Different scopes: consent again.
    expect((await browser.get(authorizePath(client, { scope: "read" }))).status).toBe(200);
  });

  test("deny sends access_denied with the state", async () => {
    const { email } = await makeUser();
    const client = await registerApp();
    const browser = new Browser();
    await browser.signIn(email);
    const page = await (await browser.get(authorizePath(client, { state: "abc" }))).text();
    const denied = await browser.post("/oauth/authorize", { ...hiddenFields(page), decision: "deny" });
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("abc");
    expect(location.searchParams.get("code")).toBeNull();
  });

  test("the consent form needs the CSRF token and re-checks the request", async () => {
    const { email } = await makeUser();
    const client = await registerApp();
    const browser = new Browser();
    await browser.signIn(email);
    const page = await (await browser.get(authorizePath(client))).text();
    const fields = hiddenFields(page);
    const forged = await browser.post("/oauth/authorize", { ...fields, authenticity_token: "forged", decision: "approve" });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("location")).toBeNull();
    const missing = await browser.post("/oauth/authorize", { ...fields, authenticity_token: "", decision: "approve" });
    expect(missing.status).toBe(403);
    // Another browser's token does not work either (tokens are bound to the session).
    const other = new Browser();
    await other.get("/auth/sign_in");
    expect((await other.post("/oauth/authorize", { ...fields, decision: "approve" })).status).toBe(403);
    // A token minted for the browser's seed cookie while signed out does not count once signed in
    // (someone who planted that cookie could have fetched it).
    const planted = new Browser();
    planted.cookies.set("_woolly_csrf", browser.cookies.get("_woolly_csrf")!);
    const anonymousToken = hiddenFields(await (await planted.get("/auth/sign_in")).text()).authenticity_token!;
    expect(anonymousToken).not.toBe(fields.authenticity_token);
    expect((await browser.post("/oauth/authorize", { ...fields, authenticity_token: anonymousToken, decision: "approve" })).status).toBe(403);
    // Tampering with the redirect URI in the form is caught like on the GET.
    const tampered = await browser.post("/oauth/authorize", { ...fields, redirect_uri: "https://evil.example/", decision: "approve" });
    expect(tampered.status).toBe(400);
    expect(tampered.headers.get("location")).toBeNull();
  });

  test("out-of-band apps get the code on a page", async () => {
    const { email } = await makeUser();
    const client = await registerApp({ redirectUris: OOB, scopes: "read" });
    const browser = new Browser();
    await browser.signIn(email);
    const page = await (await browser.get(`/oauth/authorize?response_type=code&client_id=${client.client_id}&redirect_uri=${encodeURIComponent(OOB)}`)).text();
    const shown = await browser.post("/oauth/authorize", { ...hiddenFields(page), decision: "approve" });
    expect(shown.status).toBe(200);
    const code = /<p class="code"[^>]*>([^<]+)<\/p>/.exec(await shown.text())![1]!;
    const token = await postForm("/oauth/token", { grant_type: "authorization_code", client_id: client.client_id, client_secret: client.client_secret, redirect_uri: OOB, code });
    expect(token.status).toBe(200);
  });

  test("force_login shows the sign-in page even when signed in, and can switch accounts", async () => {
    const first = await makeUser();
    const second = await makeUser();
    const client = await registerApp();
    const browser = new Browser();
    await browser.signIn(first.email);
    const forced = await browser.get(authorizePath(client, { force_login: "true" }));
    expect(forced.status).toBe(302);
    const signInPath = forced.headers.get("location")!;
    expect(signInPath).toContain("force_login=true");
    const signInPage = await browser.get(signInPath);
    expect(signInPage.status).toBe(200);
    const html = await signInPage.text();
    expect(html).toContain(`signed in as @${first.username}`);
    const returnTo = hiddenFields(html).return_to!;
    expect(returnTo).not.toContain("force_login");
    const switched = await browser.post("/auth/sign_in", { ...hiddenFields(html), email: second.email, password: PASSWORD });
    expect(switched.status).toBe(303);
    const consent = await (await browser.get(switched.headers.get("location")!)).text();
    expect(consent).toContain(`@${second.username}`);
    // The first session ended when the second began.
    expect((await context.sql`select 1 from web_sessions where user_id = ${first.account.user.id}`).length).toBe(0);
  });
});

// ── /oauth/token ───────────────────────────────────────────────────────────────────────────────────────

describe("POST /oauth/token", () => {
  let user: Awaited<ReturnType<typeof makeUser>>;
  let client: RegisteredApp;
  let browser: Browser;

  beforeAll(async () => {
    user = await makeUser();
    client = await registerApp({ scopes: "read write" });
    browser = new Browser();
    await browser.signIn(user.email);
  });

  async function freshCode(params: Record<string, string> = {}) {
    return (await obtainCode(browser, client, params)).code;
  }

  test("a replayed code is invalid_grant and revokes the token it produced", async () => {
    const { verifier, challenge } = pkce();
    const code = await freshCode({ code_challenge: challenge, code_challenge_method: "S256" });
    const first = await json(await exchange(client, { code, code_verifier: verifier }));
    expect((await bearer("/api/v1/apps/verify_credentials", first.access_token)).status).toBe(200);
    const replay = await exchange(client, { code, code_verifier: verifier });
    expect(replay.status).toBe(400);
    expect(await json(replay)).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
    expect((await bearer("/api/v1/apps/verify_credentials", first.access_token)).status).toBe(401);
  });

  test("authorizing the same app with the same scopes again gives the same token, as in Mastodon", async () => {
    const first = await json(await exchange(client, { code: await freshCode({ scope: "read" }) }));
    const second = await json(await exchange(client, { code: await freshCode({ scope: "read" }) }));
    expect(second.access_token).toBe(first.access_token);
    const [stored] = await context.sql`select token_hash, token_sealed from oauth_access_tokens where token_hash = ${createHash("sha256").update(first.access_token).digest("hex")}`;
    expect(stored!.token_sealed).not.toContain(first.access_token); // sealed, not stored in the clear
    const other = await json(await exchange(client, { code: await freshCode({ scope: "read write" }) }));
    expect(other.access_token).not.toBe(first.access_token);
    await postForm("/oauth/revoke", { client_id: client.client_id, client_secret: client.client_secret, token: first.access_token });
    const afterRevoke = await json(await exchange(client, { code: await freshCode({ scope: "read" }) }));
    expect(afterRevoke.access_token).not.toBe(first.access_token);
    expect((await bearer("/api/v1/apps/verify_credentials", afterRevoke.access_token)).status).toBe(200);
  });

  test("PKCE: wrong verifier, missing verifier, verifier without a challenge → invalid_grant", async () => {
    const { verifier, challenge } = pkce();
    const code = await freshCode({ code_challenge: challenge, code_challenge_method: "S256" });
    const wrong = await exchange(client, { code, code_verifier: pkce().verifier });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error).toBe("invalid_grant");
    const missing = await exchange(client, { code });
    expect((await json(missing)).error).toBe("invalid_grant");
    // A failed attempt does not use the code up: the right verifier still works.
    expect((await exchange(client, { code, code_verifier: verifier })).status).toBe(200);

    const plainCode = await freshCode();
    const downgrade = await exchange(client, { code: plainCode, code_verifier: verifier });
    expect((await json(downgrade)).error).toBe("invalid_grant");
    expect((await exchange(client, { code: plainCode })).status).toBe(200);
  });

  test("redirect_uri must match the one the code was issued for; an expired code is refused", async () => {
    const code = await freshCode();
    const mismatch = await exchange(client, { code, redirect_uri: "https://client.example/other" });
    expect((await json(mismatch)).error).toBe("invalid_grant");
    const missing = await postForm("/oauth/token", { grant_type: "authorization_code", client_id: client.client_id, client_secret: client.client_secret, code });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error).toBe("invalid_request");

    const expiring = await freshCode();
    await context.sql`update oauth_access_grants set expires_at = now() - interval '1 second' where code_hash = ${createHash("sha256").update(expiring).digest("hex")}`;
    const expired = await exchange(client, { code: expiring });
    expect(expired.status).toBe(400);
    expect((await json(expired)).error).toBe("invalid_grant");
    expect((await json(await exchange(client, { code: "made-up-code" }))).error).toBe("invalid_grant");
  });

  test("client authentication: wrong secret, unknown client, Basic, a code of another app", async () => {
    const code = await freshCode();
    const wrong = await exchange(client, { code, client_secret: "wrong" });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error).toBe("invalid_client");
    const unknown = await exchange(client, { code, client_id: "nobody" });
    expect(unknown.status).toBe(401);
    const none = await postForm("/oauth/token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT });
    expect(none.status).toBe(401);

    const other = await registerApp();
    const foreign = await postForm("/oauth/token", { grant_type: "authorization_code", client_id: other.client_id, client_secret: other.client_secret, code, redirect_uri: REDIRECT });
    expect((await json(foreign)).error).toBe("invalid_grant");

    const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64")}`;
    const viaBasic = await postForm("/oauth/token", { grant_type: "authorization_code", code, redirect_uri: REDIRECT }, { authorization: basic });
    expect(viaBasic.status).toBe(200);
    const badBasic = await postForm("/oauth/token", { grant_type: "client_credentials" }, { authorization: `Basic ${Buffer.from(`${client.client_id}:nope`).toString("base64")}` });
    expect(badBasic.status).toBe(401);
    expect(badBasic.headers.get("www-authenticate")).toContain("Basic");
  });

  test("grant types: password and refresh_token are unsupported, missing is invalid_request; JSON bodies work", async () => {
    const creds = { client_id: client.client_id, client_secret: client.client_secret };
    const password = await postForm("/oauth/token", { ...creds, grant_type: "password", username: user.email, password: PASSWORD });
    expect(password.status).toBe(400);
    expect((await json(password)).error).toBe("unsupported_grant_type");
    expect((await json(await postForm("/oauth/token", { ...creds, grant_type: "refresh_token", refresh_token: "x" }))).error).toBe("unsupported_grant_type");
    expect((await json(await postForm("/oauth/token", creds))).error).toBe("invalid_request");
    const garbled = await send(new Request(`${ORIGIN}/oauth/token`, { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" }));
    expect(garbled.status).toBe(400);
    expect((await json(garbled)).error).toBe("invalid_request");
    const viaJson = await postJson("/oauth/token", { ...creds, grant_type: "client_credentials", scope: "read" });
    expect(viaJson.status).toBe(200);
    expect((await json(viaJson)).scope).toBe("read");
  });

  test("client_credentials: scopes within the app's, default read; app tokens cannot act as a user", async () => {
    const creds = { client_id: client.client_id, client_secret: client.client_secret, grant_type: "client_credentials" };
    expect((await json(await postForm("/oauth/token", creds))).scope).toBe("read");
    expect((await json(await postForm("/oauth/token", { ...creds, scope: "read:statuses write" }))).scope).toBe("read:statuses write");
    const beyond = await postForm("/oauth/token", { ...creds, scope: "admin:read" });
    expect(beyond.status).toBe(400);
    expect((await json(beyond)).error).toBe("invalid_scope");
    const appToken = (await json(await postForm("/oauth/token", creds))).access_token;
    expect((await bearer("/oauth/userinfo", appToken)).status).toBe(403);
  });
});

describe("POST /oauth/revoke and /oauth/userinfo", () => {
  test("revoke: 200 {} for unknown tokens; only the app's own tokens are revoked", async () => {
    const user = await makeUser();
    const client = await registerApp();
    const other = await registerApp();
    const browser = new Browser();
    await browser.signIn(user.email);
    const { code } = await obtainCode(browser, client);
    const token = (await json(await exchange(client, { code }))).access_token;

    const unknown = await postForm("/oauth/revoke", { client_id: client.client_id, client_secret: client.client_secret, token: "never-issued" });
    expect(unknown.status).toBe(200);
    expect(await json(unknown)).toEqual({});
    const byOther = await postForm("/oauth/revoke", { client_id: other.client_id, client_secret: other.client_secret, token });
    expect(byOther.status).toBe(200);
    expect((await bearer("/oauth/userinfo", token)).status).toBe(200);
    const wrongSecret = await postForm("/oauth/revoke", { client_id: client.client_id, client_secret: "nope", token });
    expect(wrongSecret.status).toBe(401);
    expect((await json(wrongSecret)).error).toBe("invalid_client");
    expect((await postForm("/oauth/revoke", { client_id: client.client_id, client_secret: client.client_secret, token })).status).toBe(200);
    expect((await bearer("/oauth/userinfo", token)).status).toBe(401);
  });

  test("userinfo needs the profile scope (GET and POST)", async () => {
    const user = await makeUser();
    const client = await registerApp({ scopes: "read profile" });
    const browser = new Browser();
    await browser.signIn(user.email);
    const readOnly = (await json(await exchange(client, { code: (await obtainCode(browser, client, { scope: "read" })).code }))).access_token;
    const response = await bearer("/oauth/userinfo", readOnly);
    expect(response.status).toBe(403);
    expect(await json(response)).toEqual({ error: "This action is outside the authorized scopes" });
    const profile = (await json(await exchange(client, { code: (await obtainCode(browser, client, { scope: "profile" })).code }))).access_token;
    const posted = await bearer("/oauth/userinfo", profile, { method: "POST" });
    expect(posted.status).toBe(200);
    expect((await json(posted)).preferred_username).toBe(user.username);
  });
});

describe("discovery and CORS", () => {
  test("/.well-known/oauth-authorization-server", async () => {
    const response = await send(new Request(`${ORIGIN}/.well-known/oauth-authorization-server`));
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const doc = await json(response);
    expect(doc).toMatchObject({
      issuer: "http://woolly.test/",
      authorization_endpoint: "http://woolly.test/oauth/authorize",
      token_endpoint: "http://woolly.test/oauth/token",
      revocation_endpoint: "http://woolly.test/oauth/revoke",
      userinfo_endpoint: "http://woolly.test/oauth/userinfo",
      app_registration_endpoint: "http://woolly.test/api/v1/apps",
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      code_challenge_methods_supported: ["S256"],
      service_documentation: "https://docs.joinmastodon.org/",
    });
    expect(doc.scopes_supported).toContain("read:statuses");
    expect(doc.scopes_supported).toContain("profile");
  });

  test("preflights on /oauth/token and /api/*; none on the HTML pages", async () => {
    for (const path of ["/oauth/token", "/oauth/revoke", "/api/v1/apps", "/api/v1/accounts/verify_credentials"]) {
      const response = await send(
        new Request(ORIGIN + path, {
          method: "OPTIONS",
          headers: { origin: "https://elk.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" },
        }),
      );
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("access-control-allow-methods")).toContain("POST");
      expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    }
    const token = await postForm("/oauth/token", { grant_type: "password" }, { origin: "https://elk.example" });
    expect(token.headers.get("access-control-allow-origin")).toBe("*");
    expect(token.headers.get("access-control-expose-headers")).toContain("X-RateLimit-Remaining");
    const page = await send(new Request(`${ORIGIN}/auth/sign_in`, { headers: { origin: "https://elk.example" } }));
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
  });
});

// ── HTML pages ─────────────────────────────────────────────────────────────────────────────────────────

describe("sign in and out", () => {
  test("unknown email and wrong password get the same answer", async () => {
    const { email } = await makeUser();
    const wrong = await new Browser().signIn(email, "not the password");
    const unknown = await new Browser().signIn("nobody-here@example.com", "not the password");
    expect(wrong.status).toBe(422);
    expect(unknown.status).toBe(422);
    const strip = (page: string) => page.replace(/value="[^"]*"/g, "");
    const [a, b] = [strip(await wrong.text()), strip(await unknown.text())];
    expect(a).toContain("Invalid email address or password.");
    expect(a).toBe(b);
  });

  test("a POST without a valid CSRF token is refused", async () => {
    const { email } = await makeUser();
    const browser = new Browser();
    await browser.get("/auth/sign_in");
    const response = await browser.post("/auth/sign_in", { email, password: PASSWORD, authenticity_token: "guess" });
    expect(response.status).toBe(403);
    expect(browser.cookies.has("_woolly_session")).toBe(false);
    // No cookie at all (a cross-site form post): refused too.
    const bare = await postForm("/auth/sign_in", { email, password: PASSWORD });
    expect(bare.status).toBe(403);
  });

  test("disabled, unconfirmed and pending users are refused with the right notice", async () => {
    const disabled = await makeUser();
    await modifyLocalAccount(context.sql, disabled.username, { disabled: true });
    const unconfirmed = await makeUser({ confirmed: false });
    const pending = await makeUser({ approved: false });

    const d = await new Browser().signIn(disabled.email);
    expect(d.status).toBe(403);
    expect(await d.text()).toContain("currently disabled");
    const u = await new Browser().signIn(unconfirmed.email);
    expect(u.status).toBe(403);
    const page = await u.text();
    expect(page).toContain("Confirm your email address");
    expect(page).toContain('href="/auth/confirmation/new"');
    const p = await new Browser().signIn(pending.email);
    expect(p.status).toBe(403);
    expect(await p.text()).toContain("waiting for approval");
    // A wrong password tells none of this.
    expect(await (await new Browser().signIn(unconfirmed.email, "wrong password")).text()).not.toContain("Confirm your email");
  });

  test("return_to must be a path on this site", async () => {
    const { email } = await makeUser();
    for (const evil of ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]) {
      const response = await new Browser().signIn(email, PASSWORD, evil);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/");
    }
    const ok = await new Browser().signIn(email, PASSWORD, "/oauth/authorize?client_id=x");
    expect(ok.headers.get("location")).toBe("/oauth/authorize?client_id=x");
  });

  test("signed in: /auth/sign_in redirects; sign out (CSRF-checked) ends the session", async () => {
    const { email, account } = await makeUser();
    const browser = new Browser();
    await browser.signIn(email);
    const again = await browser.get("/auth/sign_in?return_to=%2Fsettings");
    expect(again.status).toBe(302);
    expect(again.headers.get("location")).toBe("/settings");

    const page = await (await browser.get("/auth/password/new")).text();
    expect(page).toContain(`@${account.username}`);
    expect((await browser.post("/auth/sign_out", { authenticity_token: "nope" })).status).toBe(403);
    const out = await browser.post("/auth/sign_out", { authenticity_token: hiddenFields(page).authenticity_token! });
    expect(out.status).toBe(303);
    expect(browser.cookies.has("_woolly_session")).toBe(false);
    expect((await context.sql`select 1 from web_sessions where user_id = ${account.user.id}`).length).toBe(0);
    expect((await browser.get("/auth/sign_in")).status).toBe(200);
  });

  test("an expired session counts as signed out", async () => {
    const { email, account } = await makeUser();
    const browser = new Browser();
    await browser.signIn(email);
    await context.sql`update web_sessions set expires_at = now() - interval '1 minute' where user_id = ${account.user.id}`;
    const client = await registerApp();
    const response = await browser.get(authorizePath(client));
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toStartWith("/auth/sign_in");
  });

  test("sessions slide: a session used in its last 13 days is pushed two weeks out, and the cookie re-sent", async () => {
    const { email, account } = await makeUser();
    const browser = new Browser();
    await browser.signIn(email);
    await context.sql`update web_sessions set expires_at = now() + interval '2 days' where user_id = ${account.user.id}`;
    browser.setCookieHeaders = [];
    expect((await browser.get("/auth/sign_in")).status).toBe(302);
    expect(browser.setCookieHeaders.some((h) => h.startsWith("_woolly_session=") && h.includes(`Max-Age=${14 * 24 * 3600}`))).toBe(true);
    const [row] = await context.sql`select expires_at > now() + interval '13 days' as extended from web_sessions where user_id = ${account.user.id}`;
    expect(row!.extended).toBe(true);
  });

  test("login attempts are rate limited per IP and per email", async () => {
    const limited = await testContext({ RATE_LIMITS_ENABLED: "true", RATE_LIMITS: "login_ip=100/3600,login_email=3/3600" });
    const limitedApp = buildWebApp(limited);
    try {
      const browser = new Browser();
      const original = app;
      app = limitedApp;
      try {
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await browser.signIn("limited@example.com", "wrong password")).status);
        expect(statuses).toEqual([422, 422, 422, 429]);
      } finally {
        app = original;
      }
    } finally {
      await limited.close();
    }
  });
});

describe("sign up and email confirmation", () => {
  beforeAll(async () => {
    await setSetting(context.sql, "registrations_mode", "open");
  });

  test("sign up → mail with a link → confirm → sign in", async () => {
    const browser = new Browser();
    const email = "newcomer@example.com";
    const signUp = await browser.submit("/auth/sign_up", "/auth/sign_up", {
      username: "newcomer",
      email,
      password: PASSWORD,
      password_confirmation: PASSWORD,
      agreement: "1",
    });
    expect(signUp.status).toBe(200);
    expect(await signUp.text()).toContain("Check your email");
    expect((await browser.signIn(email)).status).toBe(403); // not confirmed yet

    const mail = await waitFor(() => mailFor(email, "confirmation"));
    const link = new URL(mail.link);
    expect(link.origin).toBe("http://woolly.test");
    expect(link.pathname).toBe("/auth/confirmation");
    const token = link.searchParams.get("confirmation_token")!;
    const [stored] = await context.sql`select confirmation_token from users where lower(email) = ${email}`;
    expect(stored!.confirmation_token).toBe(createHash("sha256").update(token).digest("hex"));

    const confirmed = await browser.get(link.pathname + link.search);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain("Email address confirmed");
    const reused = await browser.get(link.pathname + link.search);
    expect(reused.status).toBe(404);
    expect(await reused.text()).toContain("invalid, was already used, or has expired");
    expect((await browser.signIn(email)).status).toBe(303);
  });

  test("form errors re-render the form (422); closed registrations say so", async () => {
    const browser = new Browser();
    const mismatch = await browser.submit("/auth/sign_up", "/auth/sign_up", {
      username: "mismatch",
      email: "mismatch@example.com",
      password: PASSWORD,
      password_confirmation: "something else",
      agreement: "1",
    });
    expect(mismatch.status).toBe(422);
    expect(await mismatch.text()).toContain("doesn&#39;t match the password");
    const taken = await browser.submit("/auth/sign_up", "/auth/sign_up", {
      username: "newcomer",
      email: "other@example.com",
      password: PASSWORD,
      password_confirmation: PASSWORD,
      agreement: "1",
    });
    expect(taken.status).toBe(422);
    const page = await taken.text();
    expect(page).toContain("is already taken");
    expect(page).toContain('value="other@example.com"');
    const noAgreement = await browser.submit("/auth/sign_up", "/auth/sign_up", { username: "noagree", email: "noagree@example.com", password: PASSWORD, password_confirmation: PASSWORD });
    expect(noAgreement.status).toBe(422);

    await setSetting(context.sql, "registrations_mode", "none");
    try {
      const closed = await new Browser().get("/auth/sign_up");
      expect(closed.status).toBe(403);
      expect(await closed.text()).toContain("not accepting new accounts");
    } finally {
      await setSetting(context.sql, "registrations_mode", "open");
    }
  });

  test("confirmation links expire after 3 days", async () => {
    const { account, email } = await makeUser({ confirmed: false });
    const browser = new Browser();
    await browser.submit("/auth/confirmation/new", "/auth/confirmation/new", { email });
    const mail = await waitFor(() => mailFor(email, "confirmation"));
    await context.sql`update users set confirmation_sent_at = now() - interval '3 days 1 minute' where id = ${account.user.id}`;
    const link = new URL(mail.link);
    expect((await browser.get(link.pathname + link.search)).status).toBe(404);
    expect((await browser.get("/auth/confirmation?confirmation_token=garbage")).status).toBe(404);
    expect((await browser.get("/auth/confirmation")).status).toBe(404);
  });

  test("resending answers the same whether or not the email is registered", async () => {
    const { email } = await makeUser({ confirmed: false });
    const known = await new Browser().submit("/auth/confirmation/new", "/auth/confirmation/new", { email });
    const unknown = await new Browser().submit("/auth/confirmation/new", "/auth/confirmation/new", { email: "ghost@example.com" });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    const strip = (page: string) => page.replace(/value="[^"]*"/g, "");
    expect(strip(await known.text())).toBe(strip(await unknown.text()));
    expect(await waitFor(() => mailFor(email, "confirmation"))).toBeTruthy();
    await Bun.sleep(100);
    expect(await mailFor("ghost@example.com", "confirmation")).toBeUndefined();
  });
});

describe("password reset", () => {
  test("same answer for registered and unknown emails; the link resets once and ends every session and token", async () => {
    const { email, account } = await makeUser();
    const strip = (page: string) => page.replace(/value="[^"]*"/g, "");
    const known = await new Browser().submit("/auth/password/new", "/auth/password/new", { email });
    const unknown = await new Browser().submit("/auth/password/new", "/auth/password/new", { email: "ghost@example.com" });
    expect(known.status).toBe(unknown.status);
    expect(strip(await known.text())).toBe(strip(await unknown.text()));
    await Bun.sleep(100);
    expect(await mailFor("ghost@example.com", "password_reset")).toBeUndefined();

    // Someone is signed in, in a browser and in an app.
    const victim = new Browser();
    await victim.signIn(email);
    const client = await registerApp();
    const appToken = (await json(await exchange(client, { code: (await obtainCode(victim, client)).code }))).access_token;

    const mail = await waitFor(() => mailFor(email, "password_reset"));
    const link = new URL(mail.link);
    expect(link.pathname).toBe("/auth/password/edit");
    const token = link.searchParams.get("reset_password_token")!;
    const [stored] = await context.sql`select reset_password_token from users where id = ${account.user.id}`;
    expect(stored!.reset_password_token).toBe(createHash("sha256").update(token).digest("hex"));

    const browser = new Browser();
    const editPath = link.pathname + link.search;
    const short = await browser.submit(editPath, "/auth/password", { password: "short", password_confirmation: "short" });
    expect(short.status).toBe(422);
    expect(await short.text()).toContain("too short");
    const changed = await browser.submit(editPath, "/auth/password", { password: "a brand new password", password_confirmation: "a brand new password" });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain("Password changed");

    expect((await context.sql`select 1 from web_sessions where user_id = ${account.user.id}`).length).toBe(0);
    expect((await bearer("/oauth/userinfo", appToken)).status).toBe(401);
    expect((await new Browser().signIn(email)).status).toBe(422);
    expect((await new Browser().signIn(email, "a brand new password")).status).toBe(303);
    // Used up.
    expect((await browser.get(editPath)).status).toBe(404);
  });

  test("reset links expire after 6 hours; a bad token is a friendly page", async () => {
    const { email, account } = await makeUser();
    await new Browser().submit("/auth/password/new", "/auth/password/new", { email });
    const mail = await waitFor(() => mailFor(email, "password_reset"));
    const link = new URL(mail.link);
    const browser = new Browser();
    expect((await browser.get(link.pathname + link.search)).status).toBe(200);
    await context.sql`update users set reset_password_sent_at = now() - interval '6 hours 1 minute' where id = ${account.user.id}`;
    const expired = await browser.get(link.pathname + link.search);
    expect(expired.status).toBe(404);
    expect(await expired.text()).toContain("has expired");
    const page = await (await browser.get("/auth/password/new")).text();
    const forged = await browser.post("/auth/password", {
      ...hiddenFields(page),
      reset_password_token: "x".repeat(43),
      password: "whatever password",
      password_confirmation: "whatever password",
    });
    expect(forged.status).toBe(404);
  });
});

describe("bad input never breaks a page", () => {
  test("odd form shapes, huge values and unknown content types", async () => {
    const browser = new Browser();
    const page = await (await browser.get("/auth/sign_in")).text();
    const token = hiddenFields(page).authenticity_token!;
    const nested = await browser.request("/auth/sign_in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `authenticity_token=${token}&email[]=a&password[x]=b`,
    });
    expect(nested.status).toBe(422);
    const huge = await browser.post("/auth/sign_in", { authenticity_token: token, email: "a".repeat(5000), password: "p".repeat(100_000) });
    expect(huge.status).toBe(422);
    const weird = await browser.request("/auth/sign_in", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    expect(weird.status).toBe(403);
    const authorize = await browser.get("/oauth/authorize?client_id[]=x&redirect_uri=%00");
    expect(authorize.status).toBe(400);
  });
});
