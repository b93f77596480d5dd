/**
 * The whole door, as a newcomer walks through it with real clients: an app registers (masto), gets an app
 * token, signs a person up through POST /api/v1/accounts; the confirmation mail goes through our worker to a
 * real SMTP server; the person follows the link, signs in and authorizes the app in the HTML pages (PKCE);
 * the app's token works with masto and megalodon; authorizing again hands back the same token.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createOAuthAPIClient, createRestAPIClient, MastoHttpError } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { Browser, pkce } from "../helpers/browser";
import { waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { linkIn, Relay, RELAY_LOGIN, RELAY_PASSWORD } from "../helpers/smtp";

const REDIRECT = "https://app.example/callback";
const EMAIL = "door_newcomer@example.org";
const PASSWORD = "a long enough passphrase";

let relay: Relay;
let context: TestContext;
let workers: RunningWorkers;
let web: ReturnType<typeof buildWebApp>;
let base: string;

beforeAll(async () => {
  relay = new Relay();
  const smtpPort = await relay.start();
  context = await testContext({
    // Own namespace: only this file's worker takes this file's mail jobs.
    REDIS_NAMESPACE: `${process.env.REDIS_NAMESPACE}:door`,
    SMTP_SERVER: "127.0.0.1",
    SMTP_PORT: String(smtpPort),
    SMTP_LOGIN: RELAY_LOGIN,
    SMTP_PASSWORD: RELAY_PASSWORD,
    SMTP_AUTH_METHOD: "login",
    SMTP_ENABLE_STARTTLS: "never",
  });
  await setSetting(context.sql, "registrations_mode", "open");
  workers = startWorkers({ queues: ["mailers"], concurrency: 1, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${web.server!.port}`;
});

afterAll(async () => {
  await web.stop(true);
  await workers.close(5000);
  await resetSetting(context.sql, "registrations_mode");
  await context.close();
  await relay.stop();
});

test("sign up through the API, confirm by mail, authorize in the browser, use the token from masto and megalodon", async () => {
  // 1. The app registers and gets an app token (client_credentials).
  const anonymous = createRestAPIClient({ url: base });
  const app = await anonymous.v1.apps.create({ clientName: "Door test", redirectUris: REDIRECT, scopes: "read write profile" });
  const oauth = createOAuthAPIClient({ url: base });
  const appToken = await oauth.token.create({ grantType: "client_credentials", clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, scope: "read write profile" });

  // 2. It signs a person up. The answer is a token, but the account is unconfirmed until the mail is followed.
  const signedUp = await createRestAPIClient({ url: base, accessToken: appToken.accessToken }).v1.accounts.create({
    username: "door_newcomer",
    email: EMAIL,
    password: PASSWORD,
    agreement: true,
    locale: "en",
  });
  const early = await createRestAPIClient({ url: base, accessToken: signedUp.accessToken }).v1.accounts.verifyCredentials().catch((e: unknown) => e);
  expect((early as MastoHttpError).statusCode).toBe(403);

  // 3. The confirmation mail arrives at the SMTP relay through our worker; the person follows its link.
  const mail = await waitFor(async () => relay.received.find((m) => m.to.includes(EMAIL)), 15_000);
  const link = new URL(linkIn(mail.raw, "/auth/confirmation"));
  expect(link.origin).toBe("http://woolly.test"); // the instance's own URL (LOCAL_DOMAIN); we open its path here
  const browser = new Browser(base, { email: EMAIL, password: PASSWORD });
  const confirmed = await browser.request(link.pathname + link.search);
  expect(confirmed.status).toBeLessThan(400);
  expect(await createRestAPIClient({ url: base, accessToken: signedUp.accessToken }).v1.accounts.verifyCredentials()).toMatchObject({ username: "door_newcomer" });

  // 4. Authorization code with PKCE through the HTML sign-in and consent pages.
  const { verifier, challenge } = pkce();
  const state = randomBytes(6).toString("hex");
  const query = new URLSearchParams({ response_type: "code", client_id: app.clientId!, redirect_uri: REDIRECT, scope: "read write profile", state, code_challenge: challenge, code_challenge_method: "S256" });
  const back = await browser.authorize(`/oauth/authorize?${query}`);
  expect(back.searchParams.get("state")).toBe(state);
  const tokenParams = { grantType: "authorization_code" as const, clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, code: back.searchParams.get("code")! };
  // masto's typings have no codeVerifier, but it sends every parameter snake_cased: code_verifier.
  const token = await oauth.token.create({ ...tokenParams, codeVerifier: verifier } as typeof tokenParams);

  // 5. The token works with both client libraries.
  const masto = createRestAPIClient({ url: base, accessToken: token.accessToken });
  expect((await masto.v1.accounts.verifyCredentials()).acct).toBe("door_newcomer");
  const megalodon = generator("mastodon", base, token.accessToken);
  const viaMegalodon = await megalodon.verifyAccountCredentials();
  expect(viaMegalodon.data.username).toBe("door_newcomer");
  const updated = await megalodon.updateCredentials({ display_name: "New Comer", note: "Hello https://example.org" });
  expect(updated.data.display_name).toBe("New Comer");
  expect(updated.data.note).toContain('href="https://example.org"');

  // 6. Authorizing the same app and scopes again reuses the token (consent is skipped, too).
  const again = await browser.authorize(`/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: app.clientId!, redirect_uri: REDIRECT, scope: "read write profile" })}`);
  const second = await oauth.token.create({ ...tokenParams, code: again.searchParams.get("code")! });
  expect(second.accessToken).toBe(token.accessToken);
});
