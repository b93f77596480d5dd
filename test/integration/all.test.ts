/** `woolly all` on an empty database: migrates by itself, serves web + streaming, runs workers and the scheduler. */
import { expect, test } from "bun:test";
import postgres from "postgres";
import { freePort, runWoolly, spawnWoolly, waitFor, waitForHealthy } from "../helpers/cli";

test("woolly all: one process does every role, and stops cleanly on SIGTERM", async () => {
  const admin = postgres(process.env.TEST_ADMIN_DATABASE_URL!, { max: 1, onnotice: () => {} });
  const name = `woolly_test_all_${process.pid}`;
  await admin.unsafe(`drop database if exists ${name}`);
  await admin.unsafe(`create database ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  const env = { DATABASE_URL: url.toString() };
  const [webPort, streamingPort] = [await freePort(), await freePort()];
  const all = spawnWoolly(["all", "--port", String(webPort), "--streaming-port", String(streamingPort)], env);
  try {
    await waitForHealthy(webPort, 20_000);
    for (const port of [webPort, streamingPort]) {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/streaming/health`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("OK");
    }
    expect((await runWoolly(["migrate", "--status"], env)).stdout).toContain("up to date");
    // The in-process workers consume every queue: a probe on `push` comes back.
    const probe = await runWoolly(["admin", "queues", "probe", "--queue", "push", "--timeout", "15"], env);
    expect(probe.stdout).toMatch(/push: round trip \d+ ms/);
    // The in-process scheduler fired its recurring jobs at start.
    const stats = JSON.parse((await runWoolly(["admin", "queues", "stats", "scheduler", "--json"], env)).stdout);
    await waitFor(async () => {
      const s = JSON.parse((await runWoolly(["admin", "queues", "stats", "scheduler", "--json"], env)).stdout);
      return s[0].completed >= 1;
    }, 15_000);
    expect(stats[0].queue).toBe("scheduler");
  } finally {
    all.kill("SIGTERM");
    expect(await all.exited).toBe(0);
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}, 60_000);
