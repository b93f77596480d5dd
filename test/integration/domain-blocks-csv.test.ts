/**
 * `woolly admin domains import|export|allow`: a 400-line Mastodon blocklist previews without writing,
 * applies in one go, exports back byte-for-byte; a malformed row names its line and nothing is applied;
 * suspending a domain purges its cached accounts in batches.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PURGE_BATCH, purgeDomainJob } from "../../src/features/admin/jobs";
import { CSV_HEADER, isAllowedHost, listDomainBlocks } from "../../src/features/federation/domain-blocks";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "op-csv-"));
  context = await testContext({ PAPERCLIP_ROOT_PATH: join(dir, "media") });
});
afterAll(async () => {
  // The run's queues are shared by every test file: take back the purge jobs these tests queued.
  for (const job of await context.queues.queue("default").getJobs(["waiting", "prioritized", "delayed", "failed"])) {
    if (job?.name === "admin.purge_domain" && String(job.data.domain).startsWith("op-")) await job.remove();
  }
  await rm(dir, { recursive: true, force: true });
  await context.close();
});

const SEVERITIES = ["silence", "suspend", "noop"];

/** 400 blocks in Mastodon's export format, sorted by domain as our export is; some comments need quoting. */
function blocklist(): string {
  const rows: string[] = [];
  for (let i = 0; i < 400; i++) {
    const domain = `op-bad-${String(i).padStart(3, "0")}.csv-example.test`;
    const comment = i % 7 === 0 ? `"spam, harassment ""mass"" ${i}"` : i % 5 === 0 ? "" : `comment ${i}`;
    rows.push([domain, SEVERITIES[i % 3], String(i % 2 === 0), String(i % 4 === 0), comment, String(i % 10 === 0)].join(","));
  }
  return [CSV_HEADER, ...rows].join("\n") + "\n";
}

async function ourBlocks() {
  return (await listDomainBlocks(context.sql)).filter((b) => b.domain.endsWith(".csv-example.test"));
}

test("a malformed row is reported by line number and nothing is applied", async () => {
  const lines = blocklist().split("\n");
  lines[250] = "op-broken.csv-example.test,banish,false,false,,false";
  const file = join(dir, "broken.csv");
  await Bun.write(file, lines.join("\n"));
  const result = await runWoolly(["admin", "domains", "import", file, "--apply"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("line 251");
  expect(result.stderr).toContain("severity");
  expect(await ourBlocks()).toHaveLength(0);

  const badBool = [CSV_HEADER, "op-ok.csv-example.test,silence,false,false,,false", "op-x.csv-example.test,silence,maybe,false,,false"].join("\n");
  await Bun.write(file, badBool);
  const second = await runWoolly(["admin", "domains", "import", file, "--apply"]);
  expect(second.code).toBe(2);
  expect(second.stderr).toContain("line 3");
  expect(await ourBlocks()).toHaveLength(0);

  await Bun.write(file, "domain\nnot a domain\n");
  expect((await runWoolly(["admin", "domains", "import", file])).stderr).toContain("line 2");
});

test("400-line blocklist: preview writes nothing, --apply writes all, export round-trips, re-import is unchanged", async () => {
  const csv = blocklist();
  const file = join(dir, "blocklist.csv");
  await Bun.write(file, csv);

  const preview = await runWoolly(["admin", "domains", "import", file]);
  expect(preview.stderr).toBe("");
  expect(preview.code).toBe(0);
  expect(preview.stdout).toContain("400 added, 0 changed, 0 unchanged");
  expect(preview.stdout).toContain("+ op-bad-004.csv-example.test\tsuspend, reject media, reject reports");
  expect(preview.stdout).toContain("--apply");
  expect(await ourBlocks()).toHaveLength(0);

  const applied = await runWoolly(["admin", "domains", "import", file, "--apply"]);
  expect(applied.code).toBe(0);
  expect(applied.stdout).toContain("applied");
  const stored = await ourBlocks();
  expect(stored).toHaveLength(400);
  expect(stored.find((b) => b.domain === "op-bad-014.csv-example.test")).toMatchObject({
    severity: "noop",
    reject_media: true,
    reject_reports: false,
    public_comment: 'spam, harassment "mass" 14',
    obfuscate: false,
  });

  const exported = await runWoolly(["admin", "domains", "export"]);
  expect(exported.code).toBe(0);
  const ours = exported.stdout.split("\n").filter((l) => l === CSV_HEADER || l.includes(".csv-example.test"));
  expect(ours.join("\n") + "\n").toBe(csv);

  const again = await runWoolly(["admin", "domains", "import", file]);
  expect(again.stdout).toContain("0 added, 0 changed, 400 unchanged");

  // Change two lines: the preview shows exactly them as changed.
  const changed = csv.replace("op-bad-002.csv-example.test,noop,", "op-bad-002.csv-example.test,suspend,").replace("op-bad-003.csv-example.test,silence,false,false,comment 3", "op-bad-003.csv-example.test,silence,true,false,comment 3");
  await Bun.write(file, changed);
  const diff = await runWoolly(["admin", "domains", "import", file, "--json"]);
  const plan = JSON.parse(diff.stdout);
  expect(plan).toMatchObject({ unchanged: 398, applied: false, added: [] });
  expect(plan.changed.map((c: { domain: string }) => c.domain).sort()).toEqual(["op-bad-002.csv-example.test", "op-bad-003.csv-example.test"]);
  expect((await ourBlocks()).find((b) => b.domain === "op-bad-002.csv-example.test")!.severity).toBe("noop");
});

test("suspending a domain purges its cached accounts in batches; other domains keep theirs", async () => {
  const domain = "op-purge.csv-example.test";
  const count = PURGE_BATCH + 30;
  await context.sql`
    insert into accounts (username, domain, uri)
    select 'op_r' || n, ${domain}, 'https://' || ${domain} || '/users/op_r' || n from generate_series(1, ${count}) n`;
  await context.sql`insert into accounts (username, domain, uri) values ('op_keep', 'op-keep.csv-example.test', 'https://op-keep.csv-example.test/users/op_keep')`;
  await context.sql`insert into accounts (username, domain, uri) values ('op_sub', ${"sub." + domain}, ${"https://sub." + domain + "/u/op_sub"})`;

  // One purged account has a cached media file: it goes with the account.
  const mediaKey = "cache/media_attachments/files/op/original/op-purge.png";
  await Bun.write(join(dir, "media", mediaKey), "png");
  await context.sql`
    insert into media_attachments (account_id, type, file_key, remote_url)
    select id, 'image', ${mediaKey}, 'https://op-purge.csv-example.test/a.png' from accounts where username = 'op_r1' and domain = ${domain}`;

  // Suspended by an import: only the domain we hold accounts from gets a purge job.
  const file = join(dir, "purge.csv");
  await Bun.write(file, [CSV_HEADER, `${domain},suspend,false,false,,false`, "op-nothing-cached.csv-example.test,suspend,false,false,,false"].join("\n"));
  expect((await runWoolly(["admin", "domains", "import", file, "--apply"])).code).toBe(0);
  const waiting = await context.queues.queue("default").getJobs(["waiting", "prioritized"]);
  const purges = waiting.filter((j) => j.name === "admin.purge_domain").map((j) => j.data.domain);
  expect(purges).toContain(domain);
  expect(purges).not.toContain("op-nothing-cached.csv-example.test");

  // Run the job the way a worker would: each run deletes one batch and enqueues the next.
  const remaining = async () => (await context.sql<{ n: number }[]>`select count(*)::int n from accounts where domain like ${"%" + domain}`)[0]!.n;
  await purgeDomainJob.handler({ domain }, { ...context, jobId: "t1", attempt: 1 });
  expect(await remaining()).toBe(count + 1 - PURGE_BATCH);
  await purgeDomainJob.handler({ domain }, { ...context, jobId: "t2", attempt: 1 });
  expect(await remaining()).toBe(0);
  const [keep] = await context.sql`select 1 from accounts where domain = 'op-keep.csv-example.test'`;
  expect(keep).toBeDefined();
  expect(await Bun.file(join(dir, "media", mediaKey)).exists()).toBe(false);

  // `domains purge` does the same at once, and only for a suspended domain.
  await context.sql`insert into accounts (username, domain, uri) values ('op_late', ${domain}, ${"https://" + domain + "/users/op_late"})`;
  const purged = await runWoolly(["admin", "domains", "purge", domain], { PAPERCLIP_ROOT_PATH: join(dir, "media") });
  expect(purged.stdout).toContain("1 cached account(s) removed");
  expect(await remaining()).toBe(0);
  expect((await runWoolly(["admin", "domains", "purge", "op-keep.csv-example.test"])).code).toBe(2);
});

test("domain allows: allow, list, disallow", async () => {
  expect((await runWoolly(["admin", "domains", "allow", "Friends.CSV-example.test"])).stdout).toContain("friends.csv-example.test allowed");
  expect(await isAllowedHost(context.sql, "social.friends.csv-example.test")).toBe(true);
  expect(await isAllowedHost(context.sql, "stranger.csv-example.test")).toBe(false);
  expect((await runWoolly(["admin", "domains", "allows"])).stdout).toContain("friends.csv-example.test");
  expect((await runWoolly(["admin", "domains", "disallow", "friends.csv-example.test"])).code).toBe(0);
  expect((await runWoolly(["admin", "domains", "disallow", "friends.csv-example.test"])).code).toBe(2);
  expect(await isAllowedHost(context.sql, "friends.csv-example.test")).toBe(false);
});
