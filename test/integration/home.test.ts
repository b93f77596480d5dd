/** The front page and the auth cleanup job. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { authCleanupJob } from "../../src/features/auth/jobs";
import { createLocalAccount } from "../../src/features/accounts/service";
import { setSetting, resetSetting } from "../../src/features/settings/service";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
beforeAll(async () => {
  context = await testContext();
});
afterAll(() => context.close());

test("/ names the instance and offers sign in, and sign up only when registrations are open", async () => {
  const app = buildWebApp(context);
  await setSetting(context.sql, "site_title", "Sheep <&> Goats");
  await setSetting(context.sql, "registrations_mode", "none");
  try {
    const closed = await app.handle(new Request("http://localhost/"));
    expect(closed.status).toBe(200);
    expect(closed.headers.get("content-type")).toContain("text/html");
    const text = await closed.text();
    expect(text).toContain("Sheep &lt;&amp;&gt; Goats");
    expect(text).toContain('href="/auth/sign_in"');
    expect(text).not.toContain('href="/auth/sign_up"');
    await setSetting(context.sql, "registrations_mode", "open");
    expect(await (await app.handle(new Request("http://localhost/"))).text()).toContain('href="/auth/sign_up"');
  } finally {
    await resetSetting(context.sql, "site_title");
    await resetSetting(context.sql, "registrations_mode");
  }
});

test("single-user mode: / shows the owner's profile", async () => {
  const single = await testContext({ SINGLE_USER_MODE: "true" });
  try {
    await createLocalAccount(single.sql, single.config, {
      username: "home_owner",
      email: "home_owner@example.com",
      password: "correct horse battery",
      role: "Owner",
      confirmed: true,
    });
    const text = await (await buildWebApp(single).handle(new Request("http://localhost/"))).text();
    expect(text).toContain("@home_owner@woolly.test");
  } finally {
    await single.close();
  }
});

test("auth.cleanup removes expired sessions and dead codes, and nothing live", async () => {
  const { account } = await createLocalAccount(context.sql, context.config, {
    username: "cleanup_user",
    email: "cleanup@example.com",
    password: "correct horse battery",
    confirmed: true,
  });
  await context.sql`insert into web_sessions (user_id, token_hash, expires_at) values
    (${account.user.id}, 'expired-session', now() - interval '1 minute'),
    (${account.user.id}, 'live-session', now() + interval '1 day')`;
  await authCleanupJob.handler({}, { ...context, jobId: "t", attempt: 1 });
  const left = await context.sql<{ token_hash: string }[]>`select token_hash from web_sessions where user_id = ${account.user.id}`;
  expect(left.map((r) => r.token_hash)).toEqual(["live-session"]);
});
