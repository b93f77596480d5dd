/**
 * Publishing events (features/events/publish.ts): the subscribers of an event on one queue run in one job,
 * each guarded by its own mark; a failing one retries as its own job without re-running the others; a lone
 * subscriber keeps its own job; a subscriber's publish-time skip queues nothing (remote posts need no delivery).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SUBSCRIBERS } from "../../src/events";
import { eventJobs, eventSchema, publishEvent, type Subscriber } from "../../src/features/events/publish";
import { statusFacts } from "../../src/features/events/store";
import { defineJob, JobRegistry } from "../../src/infra/queues/registry";
import { startWorkers } from "../../src/infra/queues/worker";
import { waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

// Its own Redis namespace: the queues here hold only this file's jobs.
let context: TestContext;
beforeAll(async () => {
  context = await testContext({ REDIS_NAMESPACE: `${process.env.REDIS_NAMESPACE}_ig_events` });
});
afterAll(() => context.close());

/** Spy subscribers on `pull` (no real subscriber lives there), removed again after the test. */
function spies(subscribers: Subscriber[]) {
  SUBSCRIBERS.push(...subscribers);
  return () => {
    for (const s of subscribers) SUBSCRIBERS.splice(SUBSCRIBERS.indexOf(s), 1);
  };
}

function spyJob(name: string, runs: { name: string; jobId: string; attempt: number }[], fail: () => boolean = () => false) {
  return defineJob({
    name,
    queue: "pull",
    schema: eventSchema,
    attempts: 3,
    backoffMs: 50,
    async handler(_event, ctx) {
      runs.push({ name, jobId: ctx.jobId, attempt: ctx.attempt });
      if (fail()) throw new Error(`${name} says no`);
    },
  });
}

describe("one job per event and queue", () => {
  test("a subscriber failure retries as its own job; the subscribers that succeeded are not run again, not even when the group runs again", async () => {
    const runs: { name: string; jobId: string; attempt: number }[] = [];
    let failures = 1;
    const first = spyJob("ig.first", runs);
    const flaky = spyJob("ig.flaky", runs, () => failures-- > 0);
    const last = spyJob("ig.last", runs);
    const unspy = spies([first, flaky, last].map((job) => ({ events: ["report.created"], job })));
    const workers = startWorkers({ queues: ["pull"], concurrency: 1, registry: new JobRegistry([...eventJobs, first, flaky, last]), context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      const eventId = await publishEvent(context, { type: "report.created", reportId: "1", accountId: "2", targetAccountId: "3" });
      // One job on pull for the three of them, named after the event, listing them.
      const group = (await context.queues.queue("pull").getJob(`event-report.created-pull-${eventId}`))!;
      expect(group.name).toBe("event:report.created");
      expect(group.data.subscribers).toEqual(["ig.first", "ig.flaky", "ig.last"]);

      await waitFor(async () => runs.filter((r) => r.name === "ig.flaky").length === 2);
      await waitFor(async () => (await (await context.queues.queue("pull").getJob(`ig.flaky-${eventId}`))?.getState()) === "completed");
      // The failure did not stop the subscriber after it, and the retry ran only the one that failed, in its own
      // job (its first try counted: 2 tries left of 3). (pull runs jobs concurrently: the retry may start
      // before the group has finished, so the order of the last two is not fixed.)
      const groupId = `event-report.created-pull-${eventId}`;
      const where = (name: string) => runs.filter((r) => r.name === name).map((r) => r.jobId).sort();
      expect(where("ig.first")).toEqual([groupId]);
      expect(where("ig.last")).toEqual([groupId]);
      expect(where("ig.flaky")).toEqual([groupId, `ig.flaky-${eventId}`].sort());
      expect(runs.slice(0, 2).map((r) => r.name)).toEqual(["ig.first", "ig.flaky"]);
      expect((await context.queues.queue("pull").getJob(`ig.flaky-${eventId}`))!.opts.attempts).toBe(2);
      // The group completed, and its record went with it (high-volume: nobody looks back at it).
      expect(await context.queues.queue("pull").getJob(group.id!)).toBeUndefined();

      // The same group once more (a worker killed after the subscribers ran, a stalled job): every mark is set.
      const again = await context.queues.enqueue({ ...eventJobs.find((j) => j.name === "event:report.created")!, queue: "pull" }, group.data, { jobId: `again-${eventId}` });
      await waitFor(async () => (await (await context.queues.queue("pull").getJob(again))?.getState()) === "completed");
      expect(runs.length).toBe(4);
    } finally {
      unspy();
      await workers.close(5000);
    }
  });

  test("a subscriber that fails on every try ends in the failed set under its own name; a lone subscriber keeps its own job", async () => {
    const runs: { name: string; jobId: string; attempt: number }[] = [];
    const broken = spyJob("ig.broken", runs, () => true);
    const fine = spyJob("ig.fine", runs);
    const lone = spyJob("ig.lone", runs);
    const unspy = spies([
      { events: ["poll.voted"], job: broken },
      { events: ["poll.voted"], job: fine },
      { events: ["account.updated"], job: lone },
    ]);
    const workers = startWorkers({ queues: ["pull"], concurrency: 1, registry: new JobRegistry([...eventJobs, broken, fine, lone]), context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      const eventId = await publishEvent(context, { type: "poll.voted", pollId: "1", accountId: "2", choices: [0] });
      const failed = await waitFor(async () => {
        const job = await context.queues.queue("pull").getJob(`ig.broken-${eventId}`);
        return (await job?.getState()) === "failed" ? job : undefined;
      });
      expect(failed.failedReason).toBe("ig.broken says no");
      expect(runs.filter((r) => r.name === "ig.broken").length).toBe(3);
      expect(runs.filter((r) => r.name === "ig.fine").length).toBe(1);

      const loneEvent = await publishEvent(context, { type: "account.updated", accountId: "2" });
      await waitFor(async () => (await (await context.queues.queue("pull").getJob(`ig.lone-${loneEvent}`))?.getState()) === "completed");
      expect(runs.filter((r) => r.name === "ig.lone").map((r) => r.jobId)).toEqual([`ig.lone-${loneEvent}`]);
    } finally {
      unspy();
      await workers.close(5000);
    }
  });
});

describe("publish-time skips", () => {
  test("a remote account's post queues no delivery job; a local account's does", async () => {
    const queued: { name: string; queue: string; subscribers?: string[] }[] = [];
    const enqueue = context.queues.enqueue.bind(context.queues);
    context.queues.enqueue = (async (job: { name: string; queue: string }, payload: { subscribers?: string[] }) => {
      queued.push({ name: job.name, queue: job.queue, subscribers: payload.subscribers });
      return "recorded";
    }) as typeof context.queues.enqueue;
    try {
      const { account: local } = await makeTestUser(context, "ig_poster");
      const [remote] = await context.sql<{ id: string }[]>`
        insert into accounts (username, domain, uri) values ('ig_remote', 'ig-remote.example.test', 'https://ig-remote.example.test/users/ig_remote') returning id::text`;
      await publishEvent(context, { type: "status.created", statusId: "1", accountId: remote!.id });
      expect(queued.some((q) => q.queue === "push")).toBe(false);
      const fanOut = queued.find((q) => q.queue === "default")!;
      expect(fanOut.name).toBe("event:status.created");
      expect(fanOut.subscribers).toContain("timelines.fan_out");
      expect(fanOut.subscribers).not.toContain("activitypub.distribute");

      queued.length = 0;
      await publishEvent(context, { type: "status.created", statusId: "1", accountId: local.id });
      expect(queued.find((q) => q.queue === "push")?.name).toBe("activitypub.distribute");
    } finally {
      context.queues.enqueue = enqueue;
    }
  });
});

describe("run-time skips from the shared status read", () => {
  test("a public post without links or local mentions skips notifications, cards and conversations; a direct message with a mention and a link runs them", async () => {
    const skipping = (facts: Parameters<NonNullable<Subscriber["skipForStatus"]>>[0], type = "status.created") =>
      SUBSCRIBERS.filter((s) => s.skipForStatus?.(facts, { type, statusId: "1", accountId: "2", eventId: "e", at: "" } as never)).map((s) => s.job.name).sort();
    const plain = { visibility: "public", reblog_of_id: null, content: "<p>hello</p>", local_mentions: false, bell_followers: false } as const;
    expect(skipping(plain)).toEqual(["cards.link", "conversations.update", "notifications.from-event"]);
    expect(skipping({ ...plain, bell_followers: true })).toEqual(["cards.link", "conversations.update"]);
    expect(skipping({ ...plain, visibility: "direct", local_mentions: true, content: '<p><a href="https://example.com/">x</a></p>' })).toEqual([]);
    // Gone meanwhile, or another event: each subscriber decides for itself.
    expect(skipping(undefined)).toEqual([]);
    expect(skipping(plain, "status.updated")).toEqual([]);
  });

  test("the shared read says whether anyone local is mentioned or rang the bell", async () => {
    const { account: author } = await makeTestUser(context, "ig_author");
    const { account: fan } = await makeTestUser(context, "ig_fan");
    const [status] = await context.sql<{ id: string }[]>`
      insert into statuses (account_id, uri, text, content, visibility) values (${author.id}, ${`https://woolly.test/ig/${Date.now()}`}, '', '<p>hi</p>', 'public') returning id::text`;
    expect(await statusFacts(context.sql, status!.id)).toMatchObject({ visibility: "public", local_mentions: false, bell_followers: false });
    await context.sql`insert into follows (account_id, target_account_id, notify) values (${fan.id}, ${author.id}, true)`;
    await context.sql`insert into mentions (status_id, account_id, silent) values (${status!.id}, ${fan.id}, false)`;
    expect(await statusFacts(context.sql, status!.id)).toMatchObject({ local_mentions: true, bell_followers: true });
  });
});
