/** SIGTERM during busy workers: in-flight jobs finish, the process exits 0, and no job is lost. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { probeJob } from "../../src/features/queues/jobs";
import { spawnWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
beforeAll(async () => {
  context = await testContext();
});
afterAll(() => context.close());

test("a worker stopped by SIGTERM mid-batch loses no job", async () => {
  const total = 30;
  const prefix = `sigterm-${Date.now()}-`;
  const enqueuedAt = new Date().toISOString();
  for (let i = 0; i < total; i++) {
    await context.queues.enqueue(probeJob, { marker: `${prefix}${i}`, queue: "default", enqueuedAt, workMs: 400 });
  }
  const done = async () => Number((await context.sql`select count(*)::int as n from queue_probes where marker like ${prefix + "%"}`)[0]!.n);

  const first = spawnWoolly(["worker", "--queues", "default", "--concurrency", "4"]);
  await waitFor(async () => (await done()) >= 4, 20_000);
  // Jobs are in flight right now (4 at a time, 400 ms each).
  expect(await context.queues.queue("default").getActiveCount()).toBeGreaterThan(0);
  const stoppedAt = Date.now();
  first.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  const afterFirst = await done();
  expect(afterFirst).toBeLessThan(total); // it really was interrupted mid-batch
  expect(await context.queues.queue("default").getActiveCount()).toBe(0); // in-flight work finished, not abandoned

  const second = spawnWoolly(["worker", "--queues", "default", "--concurrency", "8"]);
  try {
    await waitFor(async () => (await done()) === total, 30_000);
  } finally {
    second.kill("SIGTERM");
    await second.exited;
  }
  expect(await done()).toBe(total);
  expect(await context.queues.queue("default").getFailedCount()).toBe(0);
}, 90_000);
