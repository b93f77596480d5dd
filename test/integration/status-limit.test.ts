/** MAX_TOOT_CHARS: an instance's own post length, enforced on posting and shown in /api/v2/instance. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let token: string;

beforeAll(async () => {
  context = await testContext({ MAX_TOOT_CHARS: "1000" });
  const { account } = await createLocalAccount(context.sql, context.config, { username: "limit_alice", email: "limit_alice@example.com", password: "correct horse battery", confirmed: true });
  token = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write" })).token;
});
afterAll(() => context.close());

test("a configured limit is enforced (one over fails) and advertised to clients", async () => {
  const app = buildWebApp(context);
  const post = (status: string) =>
    app.handle(new Request("http://localhost/api/v1/statuses", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ status }) }));
  expect((await post("a".repeat(1000))).status).toBe(200);
  const over = await post("a".repeat(1001));
  expect(over.status).toBe(422);
  expect(((await over.json()) as { error: string }).error).toContain("1000");
  const instance = (await (await app.handle(new Request("http://localhost/api/v2/instance"))).json()) as any;
  expect(instance.configuration.statuses.max_characters).toBe(1000);
  const v1 = (await (await app.handle(new Request("http://localhost/api/v1/instance"))).json()) as any;
  expect(v1.configuration.statuses.max_characters).toBe(1000);
});
