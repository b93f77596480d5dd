/**
 * WEB_CONCURRENCY: `woolly all` (one process) serves its web port on several threads sharing the port with
 * SO_REUSEPORT. Requests and streaming clients are answered by every thread, each thread's hub delivers
 * events, SIGTERM stops every thread's server (streaming clients closed with 1001) and the process exits 0;
 * a port already taken fails start-up with the usual one-line error instead of hanging.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { freePort, runWoolly, spawnWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let token: string;

beforeAll(async () => {
  context = await testContext();
  const { account } = await createLocalAccount(context.sql, context.config, {
    username: "wt_alice",
    email: "wt_alice@example.com",
    password: "correct horse battery",
    confirmed: true,
  });
  token = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write" })).token;
});

afterAll(() => context.close());

/** Collects a child's stdout lines as they come (JSON log lines). */
function collectLines(stream: ReadableStream<Uint8Array>): string[] {
  const lines: string[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return lines;
}

function logged(lines: string[], msg: string): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry.msg === msg ? [entry] : [];
    } catch {
      return [];
    }
  });
}

function connect(url: string) {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  ws.addEventListener("message", (e) => messages.push(String(e.data)));
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("refused")));
  });
  return { ws, messages, opened, closed };
}

test("woolly all with WEB_CONCURRENCY=2: both threads answer requests and streams, SIGTERM stops them all", async () => {
  const port = await freePort();
  const all = spawnWoolly(["all", "--port", String(port), "--streaming-port", "0"], { WEB_CONCURRENCY: "2", LOG_LEVEL: "info" });
  const stdout = collectLines(all.stdout);
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => logged(stdout, "web threads")[0], 30_000);
    expect(logged(stdout, "web threads")[0]).toMatchObject({ threads: 2, port });
    expect(logged(stdout, "listening").filter((l) => l.server === "web").map((l) => l.thread).sort()).toEqual([0, 1]);

    // New connections are spread by the kernel: over 30 of them, both threads answer (and know the token).
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`${base}/api/v1/accounts/verify_credentials`, {
        headers: { authorization: `Bearer ${token}`, connection: "close", "x-request-id": `wt-${i}` },
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { username: string }).username).toBe("wt_alice");
    }
    const served = await waitFor(async () => {
      const ours = logged(stdout, "request").filter((l) => String(l.request_id).startsWith("wt-"));
      return ours.length === 30 ? ours : undefined;
    });
    expect(new Set(served.map((l) => l.thread))).toEqual(new Set([0, 1]));

    // Streaming on the web port: each socket lands on some thread, and every thread's hub delivers the post.
    const clients = Array.from({ length: 8 }, () => connect(`ws://127.0.0.1:${port}/api/v1/streaming?access_token=${token}&stream=public:local`));
    await Promise.all(clients.map((c) => c.opened));
    await Bun.sleep(300); // subscriptions settle (Redis SUBSCRIBE per thread)
    const posted = await fetch(`${base}/api/v1/statuses`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ status: "wt threads hello", visibility: "public" }),
    });
    expect(posted.status).toBe(200);
    const { id } = (await posted.json()) as { id: string };
    await waitFor(async () => clients.every((c) => c.messages.some((m) => m.includes(id))), 15_000);

    const stoppedAt = Date.now();
    all.kill("SIGTERM");
    expect(await Promise.all(clients.map((c) => c.closed))).toEqual(clients.map(() => 1001));
    expect(await all.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    await waitFor(async () => logged(stdout, "stopped")[0]);
    // Every step, the threads' included, finished in time.
    expect(await new Response(all.stderr).text()).not.toContain("ran past the deadline");
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  } finally {
    all.kill("SIGKILL");
  }
}, 90_000);

test("woolly web with WEB_CONCURRENCY=2 on a port already taken fails with one line, not a hang", async () => {
  const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const result = await runWoolly(["web", "--port", String(holder.port)], { WEB_CONCURRENCY: "2" }, 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`web: cannot listen on 127.0.0.1:${holder.port}`);
  } finally {
    holder.stop(true);
  }
}, 60_000);

test("SIGTERM while the extra threads are still starting stops the process cleanly (exit 0)", async () => {
  const port = await freePort();
  const all = spawnWoolly(["all", "--port", String(port), "--streaming-port", "0"], { WEB_CONCURRENCY: "3", LOG_LEVEL: "info" });
  const stdout = collectLines(all.stdout);
  try {
    // The main thread listens first; the other threads need a moment more.
    await waitFor(async () => logged(stdout, "listening").find((l) => l.thread === 0), 30_000);
    all.kill("SIGTERM");
    expect(await all.exited).toBe(0);
    await waitFor(async () => logged(stdout, "stopped")[0]);
  } finally {
    all.kill("SIGKILL");
  }
}, 60_000);
