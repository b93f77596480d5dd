/**
 * The leftovers of emoji completeness and `moved` (issue 6), through the API as clients call it:
 * - `moved` also on the Accounts nested in a report (POST /api/v1/reports), in Admin::Account (v1 and v2
 *   admin accounts, admin reports) and on GET /api/v1/accounts?id[]= — not only on timelines and profiles;
 * - a custom emoji changed or deleted in one process reaches the cached status renderings of another at once
 *   (two contexts, each with its own pool and caches, stand for two web processes);
 * - a poll's emojis are resolved for its author: a local poll does not show another server's emoji of the
 *   same shortcode.
 * The move itself is marked as the Move handler marks it (accounts.moved_to_account_id).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient, type mastodon } from "masto";
import { buildWebApp } from "../../src/api/app";
import { statusRenderCaches } from "../../src/api/entities/status";
import { changeEmoji, deleteEmoji, importEmoji, storeRemoteEmojis } from "../../src/features/custom-emojis/service";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const ADMIN_SCOPES = "read write admin:read admin:write";

/** Two "processes": the same database, each with its own pool, listener and render caches. */
let one: TestContext;
let two: TestContext;
let servers: ReturnType<typeof Bun.serve>[] = [];
let tokens: Record<"admin" | "reader" | "author", string>;
let ids: Record<"old" | "new" | "plain", string>;
let emojiId: string;

const urlOf = (server: ReturnType<typeof Bun.serve>) => `http://127.0.0.1:${server.port}`;
const client = (server: ReturnType<typeof Bun.serve>, token: string) => createRestAPIClient({ url: urlOf(server), accessToken: token });
/** The raw JSON (masto camel-cases what it returns; schema checks want Mastodon's keys). */
async function raw(server: ReturnType<typeof Bun.serve>, path: string, token: string): Promise<any> {
  const response = await fetch(`${urlOf(server)}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.json();
}

beforeAll(async () => {
  one = await testContext({ RATE_LIMITS_ENABLED: "false" });
  two = await testContext({ RATE_LIMITS_ENABLED: "false" });
  servers = [one, two].map((context) => {
    const app = buildWebApp(context);
    return Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => app.handle(request) });
  });
  const made = {
    admin: await makeTestUser(one, "h2_admin", { role: "Admin", scopes: ADMIN_SCOPES }),
    reader: await makeTestUser(one, "h2_reader", { scopes: "read write follow" }),
    author: await makeTestUser(one, "h2_author", { scopes: "read write" }),
    old: await makeTestUser(one, "h2_old"),
    new: await makeTestUser(one, "h2_new"),
    plain: await makeTestUser(one, "h2_plain"),
  };
  tokens = { admin: made.admin.token!, reader: made.reader.token!, author: made.author.token! };
  ids = { old: made.old.account.id, new: made.new.account.id, plain: made.plain.account.id };
  emojiId = (await importEmoji(one, { shortcode: "h2_star", bytes: PNG, category: "Stars" })).row!.id;
  await storeRemoteEmojis(one, "h2-far.example", [{ shortcode: "h2_far", imageUrl: "https://h2-far.example/e/far.png", uri: null }]);
});

afterAll(async () => {
  for (const server of servers) server.stop(true);
  // The run's database is shared by the test files (others list the instance's emojis): leave none behind.
  await one.sql`delete from custom_emojis where shortcode like 'h2\_%'`;
  await one.close();
  await two.close();
});

describe("moved on nested and listed accounts", () => {
  const expectMoved = (account: { id: string; moved?: { id: string; moved?: unknown } | null } | undefined, movedId: string) => {
    expect(account?.id).toBe(movedId);
    expect(account?.moved?.id).toBe(ids.new);
    // The target is nested without a `moved` of its own.
    expect(account?.moved?.moved ?? null).toBeNull();
  };

  test("a report's target, Admin::Account (v1, v2), an admin report and accounts?id[] carry it; others do not", async () => {
    await one.sql`update accounts set moved_to_account_id = ${ids.new} where id = ${ids.old}`;
    const reader = client(servers[0]!, tokens.reader);
    const admin = client(servers[0]!, tokens.admin);

    const report = await reader.v1.reports.create({ accountId: ids.old, comment: "h2 moved" });
    expectMoved(report.targetAccount, ids.old);
    const plainReport = await reader.v1.reports.create({ accountId: ids.plain, comment: "h2 not moved" });
    expect(plainReport.targetAccount.moved ?? null).toBeNull();

    expectMoved((await admin.v1.admin.accounts.$select(ids.old).fetch()).account, ids.old);
    expect((await admin.v1.admin.accounts.$select(ids.plain).fetch()).account.moved ?? null).toBeNull();
    // masto 8 has no v2 admin accounts, and types an admin report's accounts as plain Accounts: raw JSON here.
    const listed = await raw(servers[0]!, "/api/v2/admin/accounts?origin=local&username=h2_old", tokens.admin);
    expectMoved(listed.find((a: { id: string }) => a.id === ids.old)?.account, ids.old);
    expectMatchesSchema(listed[0], "AdminAccount");

    const adminReport = await raw(servers[0]!, `/api/v1/admin/reports/${report.id}`, tokens.admin);
    expectMoved(adminReport.target_account.account, ids.old);
    expect(adminReport.account.account.moved ?? null).toBeNull();

    const many = await raw(servers[0]!, `/api/v1/accounts?id[]=${ids.old}&id[]=${ids.plain}`, tokens.reader);
    expect(many.map((a: { id: string }) => a.id).sort()).toEqual([ids.old, ids.plain].sort());
    expectMoved(many.find((a: { id: string }) => a.id === ids.old), ids.old);
    expect(many.find((a: { id: string }) => a.id === ids.plain).moved).toBeUndefined();
    expectMatchesSchema(many[0], "Account");

    // Back from the move: the mark goes everywhere.
    await one.sql`update accounts set moved_to_account_id = null where id = ${ids.old}`;
    expect((await admin.v1.admin.accounts.$select(ids.old).fetch()).account.moved ?? null).toBeNull();
  });

  test("a report on an unknown account is Mastodon's 404, not a 500", async () => {
    const response = await fetch(`${urlOf(servers[0]!)}/api/v1/reports`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.reader}`, "content-type": "application/json" },
      body: JSON.stringify({ account_id: "999999999999" }),
    });
    expect(response.status).toBe(404);
    expect(typeof ((await response.json()) as { error?: unknown }).error).toBe("string");
  });
});

describe("custom emojis", () => {
  test("a local poll shows local emojis, not another server's of the same kind", async () => {
    const author = client(servers[0]!, tokens.author);
    const status = await author.v1.statuses.create({ status: "which?", visibility: "public", poll: { options: ["far :h2_far:", "star :h2_star:"], expiresIn: 3600 } });
    // masto 8's Poll type has no `emojis` (Mastodon's has).
    expect((status.poll as unknown as { emojis: { shortcode: string }[] }).emojis.map((e) => e.shortcode)).toEqual(["h2_star"]);
    expect(status.emojis.map((e) => e.shortcode)).toEqual(["h2_star"]);
  });

  test("an emoji changed or deleted in one process is seen at once by another's cached renderings", async () => {
    const author = client(servers[0]!, tokens.author);
    await author.v1.accounts.updateCredentials({ displayName: "Shining :h2_star:" });
    const posted = await author.v1.statuses.create({ status: "look :h2_star:", visibility: "public" });
    const reader = client(servers[1]!, tokens.reader);
    const read = () => reader.v1.statuses.$select(posted.id).fetch();

    const first = await read();
    expect(first.emojis.map((e) => [e.shortcode, e.category])).toEqual([["h2_star", "Stars"]]);
    expect(first.account.emojis.map((e) => e.shortcode)).toEqual(["h2_star"]);
    // The first rendering started the second process's listener, which empties the caches once connected:
    // let it connect, warm the cache again, and see the next read hit it there.
    await Bun.sleep(200);
    await read();
    const hits = statusRenderCaches(two).statuses.hits;
    await read();
    expect(statusRenderCaches(two).statuses.hits).toBeGreaterThan(hits);

    /** The NOTIFY arrives asynchronously: read (bounded) until `done`, then return the last reading. */
    const eventually = async (done: (status: mastodon.v1.Status) => boolean) => {
      let status = await read();
      for (let i = 0; i < 100 && !done(status); i++) {
        await Bun.sleep(20);
        status = await read();
      }
      return status;
    };

    // The change is made through the first process; nothing about the status row changes.
    await changeEmoji(one, emojiId, { category: "Bright stars" });
    const recategorised = await eventually((s) => s.emojis[0]?.category === "Bright stars");
    expect(recategorised.emojis.map((e) => e.category)).toEqual(["Bright stars"]);
    expect(recategorised.account.emojis.map((e) => e.category)).toEqual(["Bright stars"]);

    await deleteEmoji(one, emojiId);
    const gone = await eventually((s) => s.emojis.length === 0);
    expect(gone.emojis).toEqual([]);
    expect(gone.account.emojis).toEqual([]);
    expectMatchesSchema(await raw(servers[1]!, `/api/v1/statuses/${posted.id}`, tokens.reader), "Status");
  });
});
