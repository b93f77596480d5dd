/**
 * `moved` on every Account a client sees, not only on the profile: a status's author, a notification's
 * account, following lists, search results and favourited_by all carry the Account the moved one went to
 * (without a `moved` of its own), as Mastodon's serializer nests it — and a suspended target is left out.
 * The move itself is written as the Move handler writes it (accounts.moved_to_account_id).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient, type mastodon } from "masto";
import { buildWebApp } from "../../src/api/app";
import { statusRenderCaches } from "../../src/api/entities/status";
import { jobRegistry } from "../../src/jobs";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let server: ReturnType<typeof Bun.serve>;
let workers: RunningWorkers;
let mover: mastodon.rest.Client;
let reader: mastodon.rest.Client;
let moverId: string;
let targetId: string;

beforeAll(async () => {
  context = await testContext();
  const app = buildWebApp(context);
  // Notifications are written by the jobs a favourite queues.
  workers = startWorkers({ queues: ["default"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => app.handle(request) });
  const client = (token: string) => createRestAPIClient({ url: `http://127.0.0.1:${server.port}`, accessToken: token });
  const made = {
    mover: await makeTestUser(context, "mv_old", { scopes: "read write follow" }),
    target: await makeTestUser(context, "mv_new", { scopes: "read write follow" }),
    reader: await makeTestUser(context, "mv_reader", { scopes: "read write follow" }),
  };
  mover = client(made.mover.token!);
  reader = client(made.reader.token!);
  moverId = made.mover.account.id;
  targetId = made.target.account.id;
});

afterAll(async () => {
  await workers.close(5000);
  server.stop(true);
  await context.close();
});

describe("an account that moved", () => {
  let statusId: string;

  test("before the move: no `moved` anywhere", async () => {
    await reader.v1.accounts.$select(moverId).follow();
    statusId = (await mover.v1.statuses.create({ status: "still here", visibility: "public" })).id;
    const status = await reader.v1.statuses.$select(statusId).fetch();
    expect(status.account.moved ?? null).toBeNull();
  });

  test("after it: the status author, following, search, the profile, notifications and favourited_by carry it", async () => {
    await context.sql`update accounts set moved_to_account_id = ${targetId} where id = ${moverId}`;
    const expectMoved = (account: mastodon.v1.Account | undefined) => {
      expect(account?.id).toBe(moverId);
      expect(account?.moved?.id).toBe(targetId);
      expect(account?.moved?.acct).toBe("mv_new");
      // The target is nested without a `moved` of its own (no chains, no loops).
      expect(account?.moved?.moved ?? null).toBeNull();
    };
    // The author's rendering is cached by row version: the update gives the row a new one.
    const status = await reader.v1.statuses.$select(statusId).fetch();
    expectMoved(status.account);
    // masto camel-cases what it returns: the schema is checked against the raw answer.
    const raw = await (await fetch(`http://127.0.0.1:${server.port}/api/v1/statuses/${statusId}`)).json();
    expectMatchesSchema(raw, "Status");
    expect((raw as { account: { moved: { id: string } } }).account.moved.id).toBe(targetId);

    const following = await reader.v1.accounts.$select((await reader.v1.accounts.verifyCredentials()).id).following.list();
    expectMoved(following.find((a) => a.id === moverId));

    const found = await reader.v2.search.list({ q: "mv_old", type: "accounts" });
    expectMoved(found.accounts.find((a) => a.id === moverId));

    expectMoved(await reader.v1.accounts.$select(moverId).fetch());

    // The mover favourites the reader's post: the reader's notification names the moved account.
    const readerPost = await reader.v1.statuses.create({ status: "for the mover", visibility: "public" });
    await mover.v1.statuses.$select(readerPost.id).favourite();
    let readerNotifications: mastodon.v1.Notification[] = [];
    for (let i = 0; i < 100 && readerNotifications.length === 0; i++) {
      readerNotifications = await reader.v1.notifications.list({ types: ["favourite"] });
      if (readerNotifications.length === 0) await Bun.sleep(50);
    }
    expectMoved(readerNotifications.find((n) => n.account.id === moverId)?.account);
    const byWhom = await reader.v1.statuses.$select(readerPost.id).favouritedBy.list();
    expectMoved(byWhom.find((a) => a.id === moverId));
  });

  test("a suspended target is not shown as where the account went", async () => {
    await context.sql`update accounts set suspended_at = now() where id = ${targetId}`;
    // A change to the target alone does not touch the mover's row: start from a cold render cache.
    statusRenderCaches(context).accounts.clear();
    const status = await reader.v1.statuses.$select(statusId).fetch();
    expect(status.account.id).toBe(moverId);
    expect(status.account.moved ?? null).toBeNull();
    const found = await reader.v2.search.list({ q: "mv_old", type: "accounts" });
    expect(found.accounts.find((a) => a.id === moverId)?.moved ?? null).toBeNull();
  });
});
