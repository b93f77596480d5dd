/**
 * Operator extras (issue 9): per-minute queue rates from BullMQ metrics (CLI and /admin/queues), user archives
 * (build, contents, CLI, retention with dry-run), purging soft-deleted statuses, tootctl-parity commands
 * (maintenance fix-duplicates, accounts follow/unfollow/approve, queues clear), and docs/cli.md listing every
 * `woolly admin` command.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { buildWebApp } from "../../src/api/app";
import { adminGroup } from "../../src/cli/admin/index";
import { queueRates } from "../../src/cli/admin/queues";
import { commandUsage, isGroup, type Command, type Group } from "../../src/cli/command";
import { buildArchiveJob, requestArchive } from "../../src/features/archives/jobs";
import { buildArchive, createArchiveRequest, findArchive, readArchive, removeOldArchives } from "../../src/features/archives/service";
import { purgeDeletedStatuses } from "../../src/features/retention/purge";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { defineJob, JobRegistry } from "../../src/infra/queues/registry";
import { startWorkers } from "../../src/infra/queues/worker";
import { storageFor } from "../../src/infra/storage/index";
import { RECURRING } from "../../src/scheduler/recurring";
import { jobRegistry } from "../../src/jobs";
import { Browser as HttpBrowser, hiddenFields } from "../helpers/browser";
import { chromiumPath, launchChromium } from "../helpers/chromium";
import { startFedifyPeer } from "../helpers/fedify-peer";
import { ROOT, runWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser, TEST_PASSWORD } from "../helpers/users";

// Its own queue namespace: the per-minute counts asserted here must be this file's jobs alone.
const OWN_QUEUES = { REDIS_NAMESPACE: `${process.env.REDIS_NAMESPACE}_ops_extras` };

let context: TestContext;
let n = 0;

beforeAll(async () => {
  context = await testContext(OWN_QUEUES);
});
afterAll(() => context.close());

async function insertStatus(accountId: string, options: { local?: boolean; visibility?: string; deletedDaysAgo?: number; uri?: string } = {}): Promise<string> {
  const uri = options.uri ?? `https://op.example/s/${Date.now()}-${n++}`;
  const [row] = await context.sql<{ id: string }[]>`
    insert into statuses (account_id, uri, content, visibility, local, deleted_at)
    values (${accountId}, ${uri}, ${`<p>op status ${n}</p>`}, ${options.visibility ?? "public"}, ${options.local ?? true},
            ${options.deletedDaysAgo === undefined ? null : context.sql`now() - make_interval(days => ${options.deletedDaysAgo})`})
    returning id::text`;
  return row!.id;
}

async function exists(table: string, id: string): Promise<boolean> {
  const [row] = await context.sql`select 1 from ${context.sql(table)} where id = ${id}`;
  return row !== undefined;
}

async function remoteAccount(username: string, domain = "op-remote.example"): Promise<string> {
  const [row] = await context.sql<{ id: string }[]>`
    insert into accounts (username, domain, uri) values (${username}, ${domain}, ${`https://${domain}/u/${username}-${n++}`}) returning id::text`;
  return row!.id;
}

describe("queue rates per minute", () => {
  test("completed and failed jobs show up in the last hour's per-minute counts: API, CLI and /admin/queues", async () => {
    const job = defineJob({
      name: "test.op-rates",
      queue: "mailers",
      schema: v.object({ fail: v.boolean() }),
      attempts: 1,
      backoffMs: 1,
      async handler({ fail }) {
        if (fail) throw new Error("op failure");
      },
    });
    const workers = startWorkers({ queues: ["mailers"], concurrency: 2, registry: new JobRegistry([job]), context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      for (let i = 0; i < 5; i++) await context.queues.enqueue(job, { fail: false });
      for (let i = 0; i < 2; i++) await context.queues.enqueue(job, { fail: true });
      const [rates] = await waitFor(async () => {
        const r = await queueRates(context.queues, ["mailers"]);
        const done = r[0]!.completed.reduce((a, b) => a + b, 0);
        const failed = r[0]!.failed.reduce((a, b) => a + b, 0);
        return done === 5 && failed === 2 ? r : undefined;
      });
      expect(rates!.completed).toHaveLength(60);
      // All in this minute or the one before (a test can straddle a minute boundary).
      expect(rates!.completed.slice(58).reduce((a, b) => a + b, 0)).toBe(5);
      expect(rates!.failed.slice(0, 58).every((x) => x === 0)).toBe(true);
    } finally {
      await workers.close(5000);
    }

    const cli = await runWoolly(["admin", "queues", "stats", "mailers", "--json"], OWN_QUEUES);
    expect(cli.code).toBe(0);
    const [stats] = JSON.parse(cli.stdout);
    expect(stats.perMinute.completed.reduce((a: number, b: number) => a + b, 0)).toBe(5);
    expect(stats.perMinute.failed.reduce((a: number, b: number) => a + b, 0)).toBe(2);
    const table = await runWoolly(["admin", "queues", "stats", "mailers"], OWN_QUEUES);
    expect(table.stdout).toMatch(/done\/1h/);
    expect(table.stdout.split("\n")[1]).toMatch(/^mailers\s.*\s5\s+2\s+[▁▂▃▄▅▆▇█]{60}$/);

    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${server.server!.port}`;
      await makeTestUser(context, "op_rates_admin", { role: "Admin" });
      const browser = new HttpBrowser(base, { email: "op_rates_admin@example.com", password: TEST_PASSWORD });
      const form = await (await browser.request("/auth/sign_in")).text();
      expect((await browser.post("/auth/sign_in", { ...hiddenFields(form), email: "op_rates_admin@example.com", password: TEST_PASSWORD })).status).toBe(303);
      const page = await (await browser.request("/admin/queues")).text();
      const row = page.match(/<figure class="rates" data-queue="mailers"[\s\S]*?<\/figure>/)![0];
      expect(row).toContain('<span class="completed-hour">5</span> completed, <span class="failed-hour">2</span> failed');
      expect(row).toContain("<svg");
      expect(row.match(/class="failed"/g)?.length ?? 0).toBeGreaterThanOrEqual(1);
    } finally {
      await server.stop(true);
    }
  }, 60_000);

  test.skipIf(!chromiumPath())("the rates render in a real Chromium on a phone without widening the page (screenshot kept)", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    const chromium = await launchChromium(chromiumPath()!);
    try {
      const base = `http://127.0.0.1:${server.server!.port}`;
      const page = await (await chromium.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })).newPage();
      await page.goto(`${base}/admin/queues`);
      await page.fill("#email", "op_rates_admin@example.com");
      await page.fill("#password", TEST_PASSWORD);
      await page.click("button[type=submit]:has-text('Sign in')");
      await page.waitForURL(`${base}/admin/queues`);
      expect(await page.textContent("figure[data-queue=mailers] .completed-hour")).toBe("5");
      mkdirSync("test-artifacts/ops-extras", { recursive: true });
      await page.screenshot({ path: "test-artifacts/ops-extras/queues-phone.png", fullPage: true });
      const box = await page.locator("figure[data-queue=mailers] svg").boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    } finally {
      await chromium.close();
      await server.stop(true);
    }
  }, 60_000);

  test("queues clear deletes failed jobs; waiting ones need --yes", async () => {
    const refused = await runWoolly(["admin", "queues", "clear", "mailers", "--state", "waiting"], OWN_QUEUES);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(await context.queues.queue("mailers").getFailedCount()).toBe(2);
    const cleared = await runWoolly(["admin", "queues", "clear", "mailers"], OWN_QUEUES);
    expect(cleared.stdout).toContain("mailers: 2 failed job(s) deleted");
    expect(await context.queues.queue("mailers").getFailedCount()).toBe(0);
  });
});

describe("user archives", () => {
  test("the archive holds outbox (all visibilities, boosts), actor, likes, bookmarks and media; stored privately under archives/", async () => {
    const { account } = await makeTestUser(context, "op_archiver");
    const other = (await makeTestUser(context, "op_other")).account;
    const publicPost = await insertStatus(account.id);
    await insertStatus(account.id, { visibility: "direct" });
    await insertStatus(account.id, { deletedDaysAgo: 1 });
    const liked = await insertStatus(other.id);
    const boost = await insertStatus(account.id);
    await context.sql`update statuses set reblog_of_id = ${liked}, content = '' where id = ${boost}`;
    const bookmarked = await insertStatus(other.id);
    await context.sql`insert into favourites (account_id, status_id) values (${account.id}, ${liked})`;
    await context.sql`insert into bookmarks (account_id, status_id) values (${account.id}, ${bookmarked})`;
    const mediaKey = `media_attachments/op/${crypto.randomUUID()}.png`;
    await storageFor(context.config).put(mediaKey, new TextEncoder().encode("op-png-bytes"), { contentType: "image/png" });
    await context.sql`insert into media_attachments (account_id, status_id, type, file_key, content_type) values (${account.id}, ${publicPost}, 'image', ${mediaKey}, 'image/png')`;

    const row = await createArchiveRequest(context, "op_archiver");
    expect(row.state).toBe("pending");
    const built = (await buildArchive(context, row.id))!;
    expect(built.state).toBe("done");
    expect(built.storage_key).toStartWith(`archives/${account.id}/`);
    // Built twice (a retried job): nothing changes.
    expect((await buildArchive(context, row.id))!.storage_key).toBe(built.storage_key);

    const files = await new Bun.Archive(await (await readArchive(context, built))!.bytes()).files();
    const names = [...files.keys()].sort();
    expect(names).toEqual(["actor.json", "bookmarks.json", "likes.json", mediaKey, "outbox.json"].sort());
    const outbox = JSON.parse(await files.get("outbox.json")!.text());
    expect(outbox.type).toBe("OrderedCollection");
    expect(outbox.totalItems).toBe(3); // public, direct, boost; the deleted one is left out
    expect(outbox.orderedItems.map((a: { type: string }) => a.type).sort()).toEqual(["Announce", "Create", "Create"]);
    expect(JSON.parse(await files.get("actor.json")!.text()).preferredUsername).toBe("op_archiver");
    const [likedUri] = await context.sql<{ uri: string }[]>`select uri from statuses where id = ${liked}`;
    expect(JSON.parse(await files.get("likes.json")!.text()).orderedItems).toEqual([likedUri!.uri]);
    expect(JSON.parse(await files.get("bookmarks.json")!.text()).totalItems).toBe(1);
    expect(await files.get(mediaKey)!.text()).toBe("op-png-bytes");

    // archives/ is not a public prefix: /system/ never serves it.
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const response = await fetch(`http://127.0.0.1:${server.server!.port}/system/${built.storage_key}`);
      expect(response.status).toBe(404);
    } finally {
      await server.stop(true);
    }
  });

  test("the build job runs on the default queue; `accounts backup NAME` queues it, `--out FILE` builds it now", async () => {
    expect(jobRegistry.get("archives.build")?.queue).toBe("default");
    await makeTestUser(context, "op_cli_archive");
    const queued = await runWoolly(["admin", "accounts", "backup", "op_cli_archive"], OWN_QUEUES);
    expect(queued.code).toBe(0);
    const id = queued.stdout.match(/Archive (\d+) queued/)![1]!;
    expect((await findArchive(context, id))!.state).toBe("pending");
    const workers = startWorkers({ queues: ["default"], concurrency: 1, registry: new JobRegistry([buildArchiveJob]), context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      await waitFor(async () => (await findArchive(context, id))!.state === "done");
    } finally {
      await workers.close(5000);
    }

    const dir = mkdtempSync(join(tmpdir(), "op-archive-"));
    try {
      const out = join(dir, "archive.tar.gz");
      const written = await runWoolly(["admin", "accounts", "backup", "op_cli_archive", "--out", out]);
      expect(written.code).toBe(0);
      const files = await new Bun.Archive(await Bun.file(out).bytes()).files();
      expect(files.has("outbox.json")).toBe(true);
      const again = await runWoolly(["admin", "accounts", "backup", "op_cli_archive", "--out", out]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain("--force");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const unknown = await runWoolly(["admin", "accounts", "backup", "op_nobody"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("No local account named op_nobody");
  }, 60_000);

  test("retention removes archives older than backups_retention_period (and those of deleted accounts); dry-run only reports", async () => {
    expect(RECURRING.some((r) => r.name === "archives.retention")).toBe(true);
    const { account } = await makeTestUser(context, "op_retained");
    const old = (await buildArchive(context, (await requestArchive(context, "op_retained"))))!;
    const fresh = (await buildArchive(context, (await createArchiveRequest(context, "op_retained")).id))!;
    await context.sql`update account_archives set created_at = now() - interval '10 days' where id = ${old.id}`;
    const storage = storageFor(context.config);
    await setSetting(context.sql, "backups_retention_period", 7);
    try {
      const dry = await runWoolly(["admin", "maintenance", "remove-old-archives", "--dry-run"]);
      expect(dry.stdout).toContain(`would delete archive ${old.id}`);
      expect(dry.stdout).not.toContain(fresh.id);
      expect(await storage.head(old.storage_key!)).toBeDefined();

      const report = await removeOldArchives(context, { days: 7 });
      expect(report.removed).toContain(old.id);
      expect(report.removed).not.toContain(fresh.id);
      expect(await findArchive(context, old.id)).toBeUndefined();
      expect(await storage.head(old.storage_key!)).toBeUndefined();
      expect(await storage.head(fresh.storage_key!)).toBeDefined();

      // The account goes: its archive row is kept (account_id null) only until the next run deletes it and its file.
      await context.sql`delete from accounts where id = ${account.id}`;
      expect((await findArchive(context, fresh.id))!.account_id).toBeNull();
      const job = jobRegistry.get("archives.retention")!;
      await job.handler({}, { ...context, jobId: "op", attempt: 1 });
      expect(await findArchive(context, fresh.id)).toBeUndefined();
      expect(await storage.head(fresh.storage_key!)).toBeUndefined();
    } finally {
      await resetSetting(context.sql, "backups_retention_period");
    }
  });
});

describe("purging soft-deleted statuses", () => {
  test("statuses deleted long ago go with their dependants and media; recent, reported, conversation and replied-to ones stay", async () => {
    expect(RECURRING.some((r) => r.name === "statuses.purge_deleted")).toBe(true);
    const { account } = await makeTestUser(context, "op_purger");
    const old = await insertStatus(account.id, { deletedDaysAgo: 40 });
    const recent = await insertStatus(account.id, { deletedDaysAgo: 5 });
    const live = await insertStatus(account.id);
    const reported = await insertStatus(account.id, { deletedDaysAgo: 40 });
    await context.sql`insert into reports (account_id, target_account_id, status_ids) values (${account.id}, ${account.id}, ${[reported]}::bigint[])`;
    const replied = await insertStatus(account.id, { deletedDaysAgo: 40 });
    const reply = await insertStatus(account.id);
    await context.sql`update statuses set in_reply_to_id = ${replied} where id = ${reply}`;
    const [conversation] = await context.sql<{ id: string }[]>`insert into conversations default values returning id::text`;
    const lastOfConversation = await insertStatus(account.id, { deletedDaysAgo: 40 });
    await context.sql`insert into account_conversations (account_id, conversation_id, last_status_id) values (${account.id}, ${conversation!.id}, ${lastOfConversation})`;

    // Dependants of the purged one: a favourite, a (deleted) boost, and a media file.
    await context.sql`insert into favourites (account_id, status_id) values (${account.id}, ${old})`;
    const boost = await insertStatus(account.id, { deletedDaysAgo: 1 });
    await context.sql`update statuses set reblog_of_id = ${old} where id = ${boost}`;
    const key = `media_attachments/op/${crypto.randomUUID()}.png`;
    const storage = storageFor(context.config);
    await storage.put(key, new TextEncoder().encode("x"), { contentType: "image/png" });
    await context.sql`insert into media_attachments (account_id, status_id, type, file_key) values (${account.id}, ${old}, 'image', ${key})`;

    const dry = await runWoolly(["admin", "maintenance", "purge-deleted-statuses", "--dry-run"]);
    expect(dry.stdout).toMatch(/^\d+ deleted status\(es\) would be purged/);
    expect(await exists("statuses", old)).toBe(true);

    const report = await purgeDeletedStatuses(context, { days: 30, batchSize: 1, pauseMs: 0 });
    expect(report.purged).toBeGreaterThanOrEqual(1);
    expect(await exists("statuses", old)).toBe(false);
    expect(await exists("statuses", boost)).toBe(false);
    const [fav] = await context.sql`select 1 from favourites where status_id = ${old}`;
    expect(fav).toBeUndefined();
    const [media] = await context.sql`select 1 from media_attachments where file_key = ${key}`;
    expect(media).toBeUndefined();
    expect(await storage.head(key)).toBeUndefined();
    for (const id of [recent, live, reported, replied, reply, lastOfConversation]) expect(await exists("statuses", id)).toBe(true);
    const [replyRow] = await context.sql<{ in_reply_to_id: string }[]>`select in_reply_to_id::text from statuses where id = ${reply}`;
    expect(replyRow!.in_reply_to_id).toBe(replied);
  });
});

describe("tootctl parity", () => {
  test("fix-duplicates finds copies a broken unique index let in, merges them into the oldest, and rebuilds the index", async () => {
    const localId = (await makeTestUser(context, "op_dupe_fan")).account.id;
    const keep = await remoteAccount("op_dupe");
    const [keepRow] = await context.sql<{ uri: string }[]>`select uri from accounts where id = ${keep}`;
    const statusUri = `https://op-remote.example/s/dupe-${n++}`;
    const keptStatus = await insertStatus(keep, { local: false, uri: statusUri });
    // A damaged index: Postgres stops maintaining (and so enforcing) these unique indexes, as after a collation change.
    await context.sql`update pg_index set indisready = false, indisvalid = false where indexrelid in ('accounts_remote_uri'::regclass, 'accounts_username_domain'::regclass, 'statuses_remote_uri'::regclass)`;
    let copy: string;
    let copiedStatus: string;
    let localTwin = "";
    try {
      const [inserted] = await context.sql<{ id: string }[]>`
        insert into accounts (username, domain, uri) values ('OP_Dupe', 'op-remote.example', ${keepRow!.uri}) returning id::text`;
      copy = inserted!.id;
      copiedStatus = await insertStatus(copy, { local: false, uri: statusUri });
      await context.sql`insert into favourites (account_id, status_id) values (${localId}, ${copiedStatus})`;
      await context.sql`insert into follows (account_id, target_account_id) values (${localId}, ${copy})`;
      // Two local accounts differing by case are two people: reported, never merged.
      const [localCopy] = await context.sql<{ id: string }[]>`insert into accounts (username, domain, uri) values ('OP_Dupe_Fan', null, '') returning id::text`;
      localTwin = localCopy!.id;

      const dry = await runWoolly(["admin", "maintenance", "fix-duplicates", "--dry-run"]);
      expect(dry.code).toBe(1); // a local name conflict needs the operator
      expect(dry.stdout).toContain(`account-username op_dupe@op-remote.example: keep ${keep}, would merge ${copy}`);
      expect(dry.stdout).toContain(`status-uri ${statusUri}: keep ${keptStatus}, would merge ${copiedStatus}`);
      expect(await exists("accounts", copy)).toBe(true);

      expect(dry.stdout).toContain(`local accounts ${localId}, ${localTwin} share the name op_dupe_fan@`);

      const fixed = await runWoolly(["admin", "maintenance", "fix-duplicates"]);
      expect(fixed.code).toBe(1);
      expect(fixed.stdout).toContain("reindexed accounts_remote_uri, statuses_remote_uri");
      expect(await exists("accounts", localTwin)).toBe(true);
      await context.sql`delete from accounts where id = ${localTwin}`;
      const again = await runWoolly(["admin", "maintenance", "fix-duplicates"]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("reindexed accounts_remote_uri, accounts_username_domain, statuses_remote_uri");
    } finally {
      if (localTwin) await context.sql`delete from accounts where id = ${localTwin}`;
      // Whatever happened, leave the indexes working for the other test files.
      await context.sql`update pg_index set indisready = true where indexrelid in ('accounts_remote_uri'::regclass, 'accounts_username_domain'::regclass, 'statuses_remote_uri'::regclass)`;
      await context.sql`reindex index accounts_remote_uri`.catch(() => {});
      await context.sql`reindex index accounts_username_domain`.catch(() => {});
      await context.sql`reindex index statuses_remote_uri`.catch(() => {});
    }
    expect(await exists("accounts", copy!)).toBe(false);
    expect(await exists("statuses", copiedStatus!)).toBe(false);
    const [valid] = await context.sql<{ ok: boolean }[]>`select bool_and(indisvalid and indisready) as ok from pg_index where indexrelid in ('accounts_remote_uri'::regclass, 'statuses_remote_uri'::regclass)`;
    expect(valid!.ok).toBe(true);
    // What pointed at the copies now points at the kept rows; the index enforces uniqueness again.
    const [fav] = await context.sql`select 1 from favourites where account_id = ${localId} and status_id = ${keptStatus}`;
    expect(fav).toBeDefined();
    const [follow] = await context.sql`select 1 from follows where account_id = ${localId} and target_account_id = ${keep}`;
    expect(follow).toBeDefined();
    const [counts] = await context.sql<{ followers_count: number }[]>`select followers_count from accounts where id = ${keep}`;
    expect(counts!.followers_count).toBe(1);
    await expect(context.sql`insert into statuses (account_id, uri, content, local) values (${keep}, ${statusUri}, '', false)`).rejects.toThrow();
    const clean = await runWoolly(["admin", "maintenance", "fix-duplicates", "--dry-run"]);
    expect(clean.stdout).toContain("No duplicates found");
  }, 60_000);

  test("accounts follow / unfollow make every local account follow or stop following NAME", async () => {
    const star = (await makeTestUser(context, "op_star")).account;
    const fans = await Promise.all(["op_fan1", "op_fan2"].map(async (name) => (await makeTestUser(context, name)).account));
    const [disabled] = await Promise.all([makeTestUser(context, "op_fan_disabled")]);
    await context.sql`update users set disabled = true where account_id = ${disabled.account.id}`;
    const followed = await runWoolly(["admin", "accounts", "follow", "op_star"], OWN_QUEUES);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/\d+ local account\(s\) now follow @op_star/);
    for (const fan of fans) {
      const [row] = await context.sql`select 1 from follows where account_id = ${fan.id} and target_account_id = ${star.id}`;
      expect(row).toBeDefined();
    }
    const [skipped] = await context.sql`select 1 from follows where account_id = ${disabled.account.id} and target_account_id = ${star.id}`;
    expect(skipped).toBeUndefined();
    const [starRow] = await context.sql<{ followers_count: number }[]>`select followers_count from accounts where id = ${star.id}`;
    const [counted] = await context.sql<{ count: number }[]>`select count(*)::int as count from follows where target_account_id = ${star.id}`;
    const count = counted!.count;
    expect(starRow!.followers_count).toBe(count);

    const unfollowed = await runWoolly(["admin", "accounts", "unfollow", "op_star"], OWN_QUEUES);
    expect(unfollowed.stdout).toContain(`${count} local account(s) no longer follow @op_star`);
    const [none] = await context.sql`select 1 from follows where target_account_id = ${star.id}`;
    expect(none).toBeUndefined();
    expect((await runWoolly(["admin", "accounts", "follow", "op_nobody"], OWN_QUEUES)).code).toBe(2);
  }, 60_000);

  test("accounts refresh fetches remote actors again (one, or a whole domain) and lists the ones that fail", async () => {
    const peer = await startFedifyPeer({ users: ["op_peer"], authorizedFetch: false });
    try {
      const [row] = await context.sql<{ id: string }[]>`
        insert into accounts (username, domain, uri, display_name, updated_at)
        values ('op_peer', ${peer.host}, ${peer.actorUri("op_peer")}, 'stale name', now() - interval '30 days') returning id::text`;
      await context.sql`insert into accounts (username, domain, uri) values ('op_gone', ${peer.host}, ${`${peer.base}/users/op_gone`})`;
      const env = { ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8,::1/128" };
      const one = await runWoolly(["admin", "accounts", "refresh", `op_peer@${peer.host}`], env);
      expect(one.code).toBe(0);
      expect(one.stdout).toContain(`refreshed @op_peer@${peer.host}`);
      const [after] = await context.sql<{ display_name: string }[]>`select display_name from accounts where id = ${row!.id}`;
      expect(after!.display_name).toContain("op_peer");
      expect(after!.display_name).not.toBe("stale name");
      const all = await runWoolly(["admin", "accounts", "refresh", "--domain", peer.host], env);
      expect(all.stdout).toContain("1 refreshed, 1 failed");
      expect(all.stdout).toContain(`failed @op_gone@${peer.host}`);
      expect((await runWoolly(["admin", "accounts", "refresh", "op_peer"])).code).toBe(2);
      const unknown = await runWoolly(["admin", "accounts", "refresh", `op_nobody@${peer.host}`], env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("no known remote account matches");
    } finally {
      peer.close();
    }
  }, 60_000);

  test("accounts approve NAME approves a pending registration; NAME and --all exclude each other", async () => {
    const { account } = await makeTestUser(context, "op_pending");
    await context.sql`update users set approved = false where account_id = ${account.id}`;
    expect((await runWoolly(["admin", "accounts", "approve"])).code).toBe(2);
    const approved = await runWoolly(["admin", "accounts", "approve", "op_pending"]);
    expect(approved.stdout).toContain("Approved @op_pending");
    const [row] = await context.sql<{ approved: boolean }[]>`select approved from users where account_id = ${account.id}`;
    expect(row!.approved).toBe(true);

    const pending = await Promise.all(["op_pending2", "op_pending3"].map(async (name) => (await makeTestUser(context, name)).account.id));
    await context.sql`update users set approved = false where account_id = any(${pending}::bigint[])`;
    const all = await runWoolly(["admin", "accounts", "approve", "--all"]);
    expect(all.stdout).toContain("Approved @op_pending2");
    expect(all.stdout).toContain("Approved @op_pending3");
    const [left] = await context.sql<{ count: number }[]>`select count(*)::int as count from users where account_id = any(${pending}::bigint[]) and not approved`;
    expect(left!.count).toBe(0);
  });
});

describe("cache clear", () => {
  test("drops the work-saving caches and nothing else (feeds, processed-activity marks stay)", async () => {
    const ns = context.config.redis.namespace;
    const p = ns ? `${ns}:` : "";
    const dropped = [`${p}fed:key-owner:https://op.example/u#main-key`, `${p}woolly:cards:failed:abc`, `${p}media:proxy:failed:123`];
    const kept = [`${p}feed:home:op-cache`, `${p}fed:seen:op-cache`, `${p}event-done:op:cache`];
    for (const key of [...dropped, ...kept]) await context.redis.set(key, "1", "EX", 600);
    const result = await runWoolly(["admin", "cache", "clear"], OWN_QUEUES);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("fed:key-owner:*: 1 removed");
    for (const key of dropped) expect(await context.redis.exists(key)).toBe(0);
    for (const key of kept) expect(await context.redis.exists(key)).toBe(1);
    expect((await runWoolly(["admin", "cache", "clear", "extra"], OWN_QUEUES)).code).toBe(2);
    await context.redis.del(...kept);
  });
});

describe("docs/cli.md", () => {
  /** Every command path under `woolly admin`, from the CLI's own declarations. */
  function paths(entry: Command | Group, prefix: string): string[] {
    const path = `${prefix} ${entry.name}`;
    return isGroup(entry) ? entry.commands.flatMap((c) => paths(c, path)) : [path];
  }

  /** The generated part of docs/cli.md: every group's summary and every command's own --help text. */
  function reference(entry: Command | Group, path: string, top = false): string[] {
    if (!isGroup(entry)) return [`### \`${path}\``, "", "```", commandUsage(path, entry), "```", ""];
    return [...(top ? [] : [`## \`${path}\``, "", entry.summary, ""]), ...entry.commands.flatMap((c) => reference(c, `${path} ${c.name}`))];
  }

  test("lists every `woolly admin` command with its help, so the reference cannot drift from the CLI (WRITE_CLI_DOCS=1 regenerates)", () => {
    const file = join(ROOT, "docs/cli.md");
    const START = "<!-- generated from the CLI's help by test/integration/ops-extras.test.ts -->";
    const END = "<!-- end of generated reference -->";
    let doc = readFileSync(file, "utf8");
    if (process.env.WRITE_CLI_DOCS) {
      const generated = [START, "", ...reference(adminGroup, "woolly admin", true), END].join("\n");
      doc = doc.slice(0, doc.indexOf(START)) + generated + doc.slice(doc.indexOf(END) + END.length);
      writeFileSync(file, doc);
    }
    const all = paths(adminGroup, "woolly");
    expect(all.length).toBeGreaterThan(40);
    const documented = [...doc.matchAll(/^### `(woolly admin [^`]+)`$/gm)].map((m) => m[1]!);
    expect(all.filter((path) => !documented.includes(path))).toEqual([]);
    // And nothing documented that the CLI does not have.
    expect(documented.filter((d) => !all.includes(d))).toEqual([]);
  });
});
