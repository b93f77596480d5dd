/**
 * tootctl-parity maintenance commands (issue 9), run through the real CLI against the test database:
 * `admin cache recount`, `admin preview_cards remove`, `admin accounts cull` (against a loopback server).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePort, runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { storageFor } from "../../src/infra/storage/index";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let alice: string;
let bob: string;

beforeAll(async () => {
  context = await testContext();
  alice = (await makeTestUser(context, "tc_alice")).account.id;
  bob = (await makeTestUser(context, "tc_bob")).account.id;
});

afterAll(async () => {
  if (context) await context.sql`delete from accounts where username like 'tc\\_%'`;
  await context?.close();
});

async function counts(id: string) {
  const [row] = await context.sql<{ followers_count: number; following_count: number; statuses_count: number }[]>`
    select followers_count, following_count, statuses_count from accounts where id = ${id}`;
  return row!;
}

async function statusCounts(id: string) {
  const [row] = await context.sql<{ replies_count: number; reblogs_count: number; favourites_count: number }[]>`
    select replies_count, reblogs_count, favourites_count from statuses where id = ${id}`;
  return row!;
}

describe("cache recount", () => {
  test("--help describes the targets; an unknown target or a bad batch size is a usage error", async () => {
    const help = await runWoolly(["admin", "cache", "recount", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("accounts|statuses");
    const bad = await runWoolly(["admin", "cache", "recount", "users"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("accounts, statuses");
    expect((await runWoolly(["admin", "cache", "recount", "accounts", "--batch-size", "0"])).code).toBe(2);
  });

  test("accounts: followers/following/statuses counts are recomputed from the rows, across batches", async () => {
    await context.sql`insert into follows (account_id, target_account_id) values (${alice}, ${bob})`;
    const [post] = await context.sql<{ id: string }[]>`insert into statuses (account_id, text) values (${bob}, 'one') returning id::text`;
    await context.sql`insert into statuses (account_id, text) values (${bob}, 'two')`;
    await context.sql`insert into statuses (account_id, text, deleted_at) values (${bob}, 'gone', now())`;
    await context.sql`insert into statuses (account_id, reblog_of_id) values (${alice}, ${post!.id})`;
    // Drift: counters that the incremental code would never produce together.
    await context.sql`update accounts set followers_count = 7, following_count = 0, statuses_count = 99 where id = ${bob}`;
    await context.sql`update accounts set followers_count = 0, following_count = 0, statuses_count = 0 where id = ${alice}`;

    const run = await runWoolly(["admin", "cache", "recount", "accounts", "--batch-size", "1"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const match = /Recounted (\d+) accounts: (\d+) changed/.exec(run.stdout);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(2);
    expect(Number(match![2])).toBeGreaterThanOrEqual(2);
    // Soft-deleted statuses do not count; a boost counts as its booster's status (as the incremental code does).
    expect(await counts(bob)).toEqual({ followers_count: 1, following_count: 0, statuses_count: 2 });
    expect(await counts(alice)).toEqual({ followers_count: 0, following_count: 1, statuses_count: 1 });

    // Nothing drifted since: a second run changes none of them.
    const again = await runWoolly(["admin", "cache", "recount", "accounts"]);
    expect(again.stdout).toMatch(/: 0 changed/);
  });

  test("statuses: replies/reblogs/favourites counts are recomputed from the rows", async () => {
    const [post] = await context.sql<{ id: string }[]>`insert into statuses (account_id, text) values (${bob}, 'root') returning id::text`;
    await context.sql`insert into statuses (account_id, text, in_reply_to_id) values (${alice}, 'reply', ${post!.id})`;
    await context.sql`insert into statuses (account_id, text, in_reply_to_id, deleted_at) values (${alice}, 'deleted reply', ${post!.id}, now())`;
    await context.sql`insert into statuses (account_id, reblog_of_id) values (${alice}, ${post!.id})`;
    await context.sql`insert into favourites (account_id, status_id) values (${alice}, ${post!.id}), (${bob}, ${post!.id})`;
    await context.sql`update statuses set replies_count = 5, reblogs_count = 0, favourites_count = 40 where id = ${post!.id}`;

    const run = await runWoolly(["admin", "cache", "recount", "statuses", "--batch-size", "2"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(Number(/: (\d+) changed/.exec(run.stdout)![1])).toBeGreaterThanOrEqual(1);
    expect(await statusCounts(post!.id)).toEqual({ replies_count: 1, reblogs_count: 1, favourites_count: 2 });
    expect((await runWoolly(["admin", "cache", "recount", "statuses"])).stdout).toMatch(/: 0 changed/);
  });
});

describe("preview_cards remove", () => {
  const ago = (days: number) => new Date(Date.now() - days * 86_400_000);

  async function card(url: string, updatedDaysAgo: number, extra: { accessedDaysAgo?: number; fileKey?: string } = {}): Promise<string> {
    const [row] = await context.sql<{ id: string }[]>`
      insert into preview_cards (url, title, expires_at, updated_at, image_url, image_file_key, image_source_url, image_accessed_at)
      values (${url}, 'T', now(), ${ago(updatedDaysAgo)}, ${extra.fileKey ? `${url}/img.png` : null}, ${extra.fileKey ?? null},
              ${extra.fileKey ? `${url}/img.png` : null}, ${extra.accessedDaysAgo === undefined ? null : ago(extra.accessedDaysAgo)})
      returning id::text`;
    return row!.id;
  }

  test("--help; a bad --days is a usage error", async () => {
    const help = await runWoolly(["admin", "preview_cards", "remove", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--days");
    expect((await runWoolly(["admin", "preview_cards", "remove", "--days", "-3"])).code).toBe(2);
  });

  test("stale cards go with their cached image and their posts' links; fresh, recently viewed or newly linked ones stay", async () => {
    const storage = storageFor(context.config);
    const key = `cache/preview_cards/tc-${Date.now()}.png`;
    await storage.put(key, new Uint8Array([137, 80, 78, 71]), { contentType: "image/png" });
    const base = `https://tc-cards-${Date.now()}.example`;
    const stale = await card(`${base}/stale`, 200, { fileKey: key, accessedDaysAgo: 190 });
    const fresh = await card(`${base}/fresh`, 10);
    const viewed = await card(`${base}/viewed`, 200, { accessedDaysAgo: 2 });
    const relinked = await card(`${base}/relinked`, 200);
    const [post] = await context.sql<{ id: string }[]>`insert into statuses (account_id, text) values (${bob}, 'link') returning id::text`;
    const [other] = await context.sql<{ id: string }[]>`insert into statuses (account_id, text) values (${bob}, 'link 2') returning id::text`;
    await context.sql`insert into preview_cards_statuses (status_id, preview_card_id, url, created_at) values
      (${post!.id}, ${stale}, ${`${base}/stale`}, ${ago(199)}), (${other!.id}, ${relinked}, ${`${base}/relinked`}, now())`;

    const dry = await runWoolly(["admin", "preview_cards", "remove", "--dry-run"]);
    expect(dry.stderr).toBe("");
    expect(dry.stdout).toContain("Would remove 1 preview card(s) older than 180 day(s) (1 cached image(s); 1 post(s) lose their card)");
    expect((await context.sql`select 1 from preview_cards where id = ${stale}`).length).toBe(1);
    expect(await storage.head(key)).toBeDefined();

    const run = await runWoolly(["admin", "preview_cards", "remove"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Removed 1 preview card(s)");
    const left = (await context.sql<{ id: string }[]>`select id::text from preview_cards where url like ${`${base}/%`}`).map((r) => r.id).sort();
    expect(left).toEqual([fresh, viewed, relinked].sort());
    expect(await storage.head(key)).toBeUndefined();
    expect((await context.sql`select 1 from preview_cards_statuses where status_id = ${post!.id}`).length).toBe(0);
    expect((await context.sql`select 1 from statuses where id = ${post!.id}`).length).toBe(1);

    // A shorter window takes the next ones.
    expect((await runWoolly(["admin", "preview_cards", "remove", "--days", "5"])).stdout).toContain("Removed 1 preview card(s)");
    expect((await context.sql`select 1 from preview_cards where id = ${fresh}`).length).toBe(0);
    await context.sql`delete from preview_cards where url like ${`${base}/%`}`;
  });
});

describe("accounts cull", () => {
  const env = { ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" };
  let server: ReturnType<typeof Bun.serve>;
  let host: string;

  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/users/tc_gone") return new Response("gone", { status: 410 });
        if (path === "/users/tc_missing") return new Response("not found", { status: 404 });
        if (path === "/users/tc_down") return new Response("busy", { status: 503 });
        const id = `http://${host}${path}`;
        return Response.json(
          { "@context": "https://www.w3.org/ns/activitystreams", id, type: "Person", preferredUsername: path.split("/").pop(), inbox: `${id}/inbox` },
          { headers: { "content-type": "application/activity+json" } },
        );
      },
    });
    host = `127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    server?.stop(true);
    if (context) await context.sql`delete from accounts where username like 'tc\\_%' and domain is not null`;
  });

  async function remote(username: string, domain = host): Promise<string> {
    const [row] = await context.sql<{ id: string }[]>`
      insert into accounts (username, domain, uri) values (${username}, ${domain}, ${`http://${domain}/users/${username}`}) returning id::text`;
    return row!.id;
  }
  const exists = async (id: string) => (await context.sql`select 1 from accounts where id = ${id}`).length === 1;

  test("404/410 actors are deleted with their posts; live ones and unreachable ones are kept (dry run first)", async () => {
    const gone = await remote("tc_gone");
    const missing = await remote("tc_missing");
    const alive = await remote("tc_alive");
    const down = await remote("tc_down");
    await context.sql`insert into statuses (account_id, text, local) values (${gone}, 'old post', false)`;
    await context.sql`insert into follows (account_id, target_account_id) values (${alice}, ${gone})`;

    const dry = await runWoolly(["admin", "accounts", "cull", "--dry-run", "--domain", host], env);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would delete @tc_gone@${host}`);
    expect(dry.stdout).toContain(`would delete @tc_missing@${host}`);
    expect(dry.stdout).toContain(`kept (unreachable) @tc_down@${host}`);
    expect(dry.stdout).toContain("Checked 4 remote account(s): 2 would be deleted, 1 unreachable (kept)");
    expect(await exists(gone)).toBe(true);

    const run = await runWoolly(["admin", "accounts", "cull", "--domain", host], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Checked 4 remote account(s): 2 deleted, 1 unreachable (kept)");
    expect(await exists(gone)).toBe(false);
    expect(await exists(missing)).toBe(false);
    expect(await exists(alive)).toBe(true);
    expect(await exists(down)).toBe(true);
    expect((await context.sql`select 1 from statuses where account_id = ${gone}`).length).toBe(0);
    expect((await context.sql`select 1 from follows where target_account_id = ${gone}`).length).toBe(0);
  });

  test("a server that refuses connections is unreachable: its accounts are kept", async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const id = await remote("tc_offline", closed);
    const run = await runWoolly(["admin", "accounts", "cull", "--domain", closed], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`kept (unreachable) @tc_offline@${closed}`);
    expect(await exists(id)).toBe(true);
  });

  test("a malformed --domain is a usage error", async () => {
    expect((await runWoolly(["admin", "accounts", "cull", "--domain", "a b"], env)).code).toBe(2);
  });
});
