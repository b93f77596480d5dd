/** Queues: the registry, retries with backoff into the failed set, stats, retry, and the scheduler's lock. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { queueStats } from "../../src/cli/admin/queues";
import { probeJob } from "../../src/features/queues/jobs";
import { defineJob, JobRegistry } from "../../src/infra/queues/registry";
import { startWorkers } from "../../src/infra/queues/worker";
import { tick } from "../../src/scheduler/scheduler";
import { jobRegistry } from "../../src/jobs";
import { runWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

// Its own Redis namespace: other test files' jobs (card fetches, parent fetches…) also fail on these queues,
// and the counts asserted here must be this file's alone.
const OWN_QUEUES = { REDIS_NAMESPACE: `${process.env.REDIS_NAMESPACE}_queues` };
let context: TestContext;
beforeAll(async () => {
  context = await testContext(OWN_QUEUES);
});
afterAll(() => context.close());

describe("job registry", () => {
  test("payloads are validated before they reach Redis", async () => {
    await expect(context.queues.enqueue(probeJob, { marker: "", queue: "default", enqueuedAt: "yesterday" } as never)).rejects.toThrow();
  });

  test("a job that keeps failing retries with backoff and ends in the failed set with its error; retry brings it back", async () => {
    let calls = 0;
    let shouldFail = true;
    const flaky = defineJob({
      name: "test.flaky",
      queue: "pull",
      schema: v.object({ n: v.number() }),
      attempts: 3,
      backoffMs: 50,
      async handler() {
        calls++;
        if (shouldFail) throw new Error("remote said no");
      },
    });
    const workers = startWorkers({ queues: ["pull"], concurrency: 1, registry: new JobRegistry([flaky]), context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      const id = await context.queues.enqueue(flaky, { n: 1 });
      const failed = await waitFor(async () => {
        const job = await context.queues.queue("pull").getJob(id);
        return (await job?.getState()) === "failed" ? job : undefined;
      });
      expect(calls).toBe(3);
      expect(failed!.failedReason).toBe("remote said no");
      const [stats] = await queueStats(context.queues, ["pull"]);
      expect(stats!.failed).toBe(1);

      // The operator's view and action, through the real CLI.
      const cliStats = JSON.parse((await runWoolly(["admin", "queues", "stats", "pull", "--json"], OWN_QUEUES)).stdout);
      expect(cliStats[0]).toMatchObject({ queue: "pull", failed: 1 });
      shouldFail = false;
      const retried = await runWoolly(["admin", "queues", "retry", "pull"], OWN_QUEUES);
      expect(retried.stdout).toContain("pull: 1 failed job(s) retried");
      await waitFor(async () => (await (await context.queues.queue("pull").getJob(id))?.getState()) === "completed");
      expect(calls).toBe(4);
    } finally {
      await workers.close(5000);
    }
  });

  test("a job name nobody handles fails without retrying", async () => {
    const workers = startWorkers({ queues: ["push"], concurrency: 1, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      const job = await context.queues.queue("push").add("no.such.job", {}, { attempts: 5 });
      await waitFor(async () => (await job.getState()) === "failed");
      const fresh = await context.queues.queue("push").getJob(job.id!);
      expect(fresh!.attemptsMade).toBe(1);
      expect(fresh!.failedReason).toContain("no handler");
    } finally {
      await workers.close(5000);
    }
  });

  test("queues probe measures a round trip through a running worker", async () => {
    const workers = startWorkers({ queues: ["mailers"], concurrency: 1, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
    try {
      const result = await runWoolly(["admin", "queues", "probe", "--queue", "mailers", "--timeout", "20"], OWN_QUEUES);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/mailers: round trip \d+ ms/);
    } finally {
      await workers.close(5000);
    }
  });
});

describe("scheduler", () => {
  test("two schedulers ticking at once fire a recurring job once per period", async () => {
    const counted = defineJob({ name: "test.recurring", queue: "scheduler", schema: v.object({}), attempts: 1, backoffMs: 1, handler: async () => {} });
    const recurring = [{ name: `test.recurring.${Date.now()}`, everyMs: 60_000, job: counted, payload: () => ({}) }];
    // Start of a period, so now and now + 1 s fall in the same one (Date.now() could be in its last second).
    const now = Math.floor(Date.now() / 60_000) * 60_000 + 10;
    const fired = await Promise.all([tick(context, now, recurring), tick(context, now, recurring), tick(context, now + 1000, recurring)]);
    expect(fired.flat()).toHaveLength(1);
    // next period fires again
    expect(await tick(context, now + 60_000, recurring)).toHaveLength(1);
    const counts = await context.queues.queue("scheduler").getJobCounts("wait", "prioritized", "delayed");
    expect((counts.wait ?? 0) + (counts.prioritized ?? 0)).toBeGreaterThanOrEqual(2);
  });

  test("a scheduler asks Redis once per job and period, not once per second", async () => {
    const counted = defineJob({ name: "test.recurring.quiet", queue: "scheduler", schema: v.object({}), attempts: 1, backoffMs: 1, handler: async () => {} });
    const recurring = [
      { name: `test.quiet.a.${Date.now()}`, everyMs: 60_000, job: counted, payload: () => ({}) },
      { name: `test.quiet.b.${Date.now()}`, everyMs: 60_000, job: counted, payload: () => ({}) },
    ];
    let sets = 0;
    const redis = new Proxy(context.redis, {
      get: (target, key) => (key === "set" ? (...args: unknown[]) => (sets++, (target.set as (...a: unknown[]) => unknown)(...args)) : Reflect.get(target, key)),
    });
    const counting = { ...context, redis };
    const settled = new Map<string, number>();
    const now = Math.floor(Date.now() / 60_000) * 60_000 + 10;
    expect(await tick(counting, now, recurring, settled)).toHaveLength(2);
    for (let second = 1; second < 30; second++) expect(await tick(counting, now + second * 1000, recurring, settled)).toEqual([]);
    expect(sets).toBe(2);
    // The next period: one race each again (lost here to nobody, so fired).
    expect(await tick(counting, now + 60_000, recurring, settled)).toHaveLength(2);
    expect(sets).toBe(4);
  });
});
