/**
 * Content cache retention: the hourly job and `woolly admin statuses remove` remove old remote statuses no
 * local account interacted with, through the remote-Delete path, and keep everything else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { contentRetentionJob } from "../../src/features/retention/jobs";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { RECURRING } from "../../src/scheduler/recurring";
import { jobRegistry } from "../../src/jobs";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let localId: string;
let remoteId: string;
let n = 0;

async function remoteStatus(daysAgo: number, extra: { accountId?: string; local?: boolean; conversationId?: string } = {}): Promise<string> {
  const [row] = await context.sql<{ id: string }[]>`
    insert into statuses (account_id, uri, content, visibility, local, conversation_id, created_at)
    values (${extra.accountId ?? remoteId}, ${`https://rt-remote.example/s/${Date.now()}-${n++}`}, '<p>old</p>', 'public',
            ${extra.local ?? false}, ${extra.conversationId ?? null}, now() - make_interval(days => ${daysAgo}))
    returning id::text`;
  return row!.id;
}

async function isDeleted(id: string): Promise<boolean> {
  const [row] = await context.sql<{ deleted: boolean }[]>`select deleted_at is not null as deleted from statuses where id = ${id}`;
  return row!.deleted;
}

/** Each way a local account can depend on an old remote status, and the status it protects. */
const kept: Record<string, string> = {};
let plainOld: string;
let remoteBoostOfOld: string;

beforeAll(async () => {
  context = await testContext();
  localId = (await makeTestUser(context, "rt_local")).account.id;
  const [remote] = await context.sql<{ id: string }[]>`
    insert into accounts (username, domain, uri, statuses_count) values ('rt_remote', 'rt-remote.example', 'https://rt-remote.example/u/rt_remote', 100)
    returning id::text`;
  remoteId = remote!.id;

  plainOld = await remoteStatus(400);
  remoteBoostOfOld = await remoteStatus(400);
  await context.sql`update statuses set reblog_of_id = ${plainOld}, content = '' where id = ${remoteBoostOfOld}`;

  kept.recent = await remoteStatus(2);
  kept.localOld = await remoteStatus(400, { accountId: localId, local: true });
  kept.favourite = await remoteStatus(400);
  await context.sql`insert into favourites (account_id, status_id) values (${localId}, ${kept.favourite})`;
  kept.bookmark = await remoteStatus(400);
  await context.sql`insert into bookmarks (account_id, status_id) values (${localId}, ${kept.bookmark})`;
  kept.pin = await remoteStatus(400);
  await context.sql`insert into status_pins (account_id, status_id) values (${localId}, ${kept.pin})`;
  kept.mention = await remoteStatus(400);
  await context.sql`insert into mentions (account_id, status_id) values (${localId}, ${kept.mention})`;
  kept.reblog = await remoteStatus(400);
  const boost = await remoteStatus(1, { accountId: localId, local: true });
  await context.sql`update statuses set reblog_of_id = ${kept.reblog} where id = ${boost}`;
  kept.reply = await remoteStatus(400);
  const reply = await remoteStatus(1, { accountId: localId, local: true });
  await context.sql`update statuses set in_reply_to_id = ${kept.reply} where id = ${reply}`;
  kept.pollVote = await remoteStatus(400);
  const [poll] = await context.sql<{ id: string }[]>`
    insert into polls (account_id, status_id, options, cached_tallies) values (${remoteId}, ${kept.pollVote}, '{a,b}', '{0,0}') returning id::text`;
  await context.sql`insert into poll_votes (poll_id, account_id, choice) values (${poll!.id}, ${localId}, 0)`;
  kept.report = await remoteStatus(400);
  await context.sql`insert into reports (account_id, target_account_id, status_ids) values (${localId}, ${remoteId}, ${[kept.report]}::bigint[])`;
  const [conversation] = await context.sql<{ id: string }[]>`insert into conversations default values returning id::text`;
  kept.conversation = await remoteStatus(400, { conversationId: conversation!.id });
  const newer = await remoteStatus(1, { conversationId: conversation!.id });
  await context.sql`insert into account_conversations (account_id, conversation_id, last_status_id) values (${localId}, ${conversation!.id}, ${newer})`;
  kept.replyToLocal = await remoteStatus(400);
  await context.sql`update statuses set in_reply_to_id = ${kept.localOld} where id = ${kept.replyToLocal}`;
});

afterAll(async () => {
  await resetSetting(context.sql, "content_cache_retention_period").catch(() => {});
  await context.close();
});

describe("content retention", () => {
  test("the job is registered and scheduled hourly", () => {
    expect(RECURRING.find((r) => r.name === "content.retention")?.job).toBe(contentRetentionJob);
    expect(jobRegistry.get("content.retention") as unknown).toBe(contentRetentionJob);
  });

  test("--dry-run counts and names candidates but deletes nothing", async () => {
    const result = await runWoolly(["admin", "statuses", "remove", "--days", "30", "--dry-run"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const count = Number(/Would remove (\d+) /.exec(result.stdout)?.[1]);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(await isDeleted(plainOld)).toBe(false);
    expect(await isDeleted(remoteBoostOfOld)).toBe(false);
  });

  test("bad --days is a usage error; no --days and no setting refuses", async () => {
    expect((await runWoolly(["admin", "statuses", "remove", "--days", "0"])).code).toBe(2);
    expect((await runWoolly(["admin", "statuses", "remove", "--days", "abc"])).code).toBe(2);
    const none = await runWoolly(["admin", "statuses", "remove", "--dry-run"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("content_cache_retention_period");
  });

  test("the job does nothing while the setting is unset, then removes exactly the uninteracted old ones", async () => {
    const run = () => contentRetentionJob.handler({}, { ...context, jobId: "test", attempt: 1 });
    await run();
    expect(await isDeleted(plainOld)).toBe(false);

    await setSetting(context.sql, "content_cache_retention_period", 30);
    try {
      await run();
    } finally {
      await resetSetting(context.sql, "content_cache_retention_period");
    }
    expect(await isDeleted(plainOld)).toBe(true);
    expect(await isDeleted(remoteBoostOfOld)).toBe(true);
    for (const [why, id] of Object.entries(kept)) expect({ why, deleted: await isDeleted(id) }).toEqual({ why, deleted: false });
    // The Delete path ran: the author's counter went down once per removed status.
    const [account] = await context.sql<{ statuses_count: number }[]>`select statuses_count from accounts where id = ${remoteId}`;
    expect(account!.statuses_count).toBe(98);
  });

  test("`statuses remove --days N` removes a newly old status and keeps interacted ones", async () => {
    const old = await remoteStatus(100);
    const tooRecent = await remoteStatus(50);
    const result = await runWoolly(["admin", "statuses", "remove", "--days", "60"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Removed [1-9]\d* remote status/);
    expect(await isDeleted(old)).toBe(true);
    expect(await isDeleted(tooRecent)).toBe(false);
    expect(await isDeleted(kept.favourite!)).toBe(false);
    expect(await isDeleted(kept.localOld!)).toBe(false);
  });
});
