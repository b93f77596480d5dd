/**
 * Media pipeline bench (from source, in-process).
 *
 * 1. A 12-megapixel JPEG (4000×3000 noise, made with sharp) → processImage(): re-encoded original (scaled to
 *    ≤ 8,294,400 px), small preview (≤ 230,400 px) and blurhash. sharp.concurrency(1) = libvips on one thread.
 *    Median of --runs (default 10) after one warm-up. Target: < 400 ms.
 * 2. Memory: RSS before and after --calls (default 1000) processImage() calls on a 1600×1200 JPEG
 *    (12 MP would take ~7 minutes; the leak question is the same), with a GC before each reading.
 * 3. Uploads/s through the real API and job: POST /api/v2/media (in-process app.handle) of 1600×1200 JPEGs,
 *    2 workers (concurrency 2) on the default queue, until every row is done. Uses DATABASE_URL (default
 *    woolly_bench, created and migrated here) and a Redis namespace of its own.
 *
 * 1b. The choice behind the original's encoder settings: the 12 MP → 3325×2494 re-encode with and without
 *    Huffman-table optimisation (optimiseCoding), interleaved, CPU time and bytes (images.ts keeps it off
 *    for originals, on for previews).
 *
 *   bun run bench:media [--runs 10] [--calls 1000] [--uploads 60] [--skip-api] [--skip-memory]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { buildWebApp } from "../src/api/app";
import { createLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import { processImage } from "../src/features/media/images";
import { sniff } from "../src/features/media/sniff";
import { loadConfig } from "../src/infra/config";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { QueueClient, bullPrefix } from "../src/infra/queues/client";
import { startWorkers } from "../src/infra/queues/worker";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { loadSharp } from "../src/infra/sharp";
import { jobRegistry } from "../src/jobs";
import { DATABASE_URL, REDIS_URL } from "./lib";

const { values } = parseArgs({
  options: { runs: { type: "string" }, calls: { type: "string" }, uploads: { type: "string" }, "skip-api": { type: "boolean" }, "skip-memory": { type: "boolean" } },
});
const RUNS = Number(values.runs ?? 10);
const CALLS = Number(values.calls ?? 1000);
const UPLOADS = Number(values.uploads ?? 60);

const sharp = await loadSharp();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function noiseJpeg(width: number, height: number): Promise<Buffer> {
  const pixels = new Uint8Array(width * height * 3);
  for (let at = 0; at < pixels.length; at += 65536) crypto.getRandomValues(pixels.subarray(at, Math.min(at + 65536, pixels.length)));
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

// ---- 1. one 12 MP JPEG, one core ----
sharp.concurrency(1);
const big = new Uint8Array(await noiseJpeg(4000, 3000));
const bigType = sniff(big)!;
await processImage(big, bigType); // warm-up
// CPU time (user + system of this process) next to wall time: on this shared 2-core box other engineers' load
// stretches wall time, while the CPU a call burns is what "on one core" budgets.
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const times: number[] = [];
const cpuTimes: number[] = [];
let last: Awaited<ReturnType<typeof processImage>> | undefined;
for (let i = 0; i < RUNS; i++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  last = await processImage(big, bigType);
  times.push(performance.now() - started);
  cpuTimes.push(cpuMs(cpu));
}
const m = median(times);
console.log(`12 MP noise JPEG (${MiB(big.length)} MiB) → original ${last!.original.width}x${last!.original.height} + small ${last!.small.width}x${last!.small.height} + blurhash`);
console.log(`  ${RUNS} runs, sharp.concurrency(1): median ${m.toFixed(1)} ms, min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)} → ${(m / 400).toFixed(2)} of the 400 ms target`);
console.log(`  CPU time per call: median ${median(cpuTimes).toFixed(1)} ms, max ${Math.max(...cpuTimes).toFixed(1)}`);

// Pure noise is the worst case for JPEG entropy coding; a photo-like 12 MP image (smooth noise: 400×300 noise
// scaled up) shows the cost of a typical camera upload.
const smooth = new Uint8Array(
  await sharp(new Uint8Array(await sharp(crypto.getRandomValues(new Uint8Array(400 * 300 * 3)), { raw: { width: 400, height: 300, channels: 3 } }).png().toBuffer()))
    .resize(4000, 3000, { kernel: "cubic" })
    .jpeg({ quality: 90 })
    .toBuffer(),
);
await processImage(smooth, bigType);
const photoTimes: number[] = [];
const photoCpu: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await processImage(smooth, bigType);
  photoTimes.push(performance.now() - started);
  photoCpu.push(cpuMs(cpu));
}
const pm = median(photoTimes);
console.log(`12 MP photo-like JPEG (${MiB(smooth.length)} MiB): median ${pm.toFixed(1)} ms, min ${Math.min(...photoTimes).toFixed(1)}, max ${Math.max(...photoTimes).toFixed(1)} → ${(pm / 400).toFixed(2)} of the target`);
console.log(`  CPU time per call: median ${median(photoCpu).toFixed(1)} ms, max ${Math.max(...photoCpu).toFixed(1)}`);

// ---- 1b. optimiseCoding on/off for the original, interleaved ----
for (const [label, input] of [["noise", big], ["photo-like", smooth]] as const) {
  const encodeWith = (optimiseCoding: boolean) =>
    sharp(input).rotate().resize(3325, 2494, { fit: "inside", kernel: "mitchell" }).keepIccProfile().jpeg({ quality: 90, optimiseCoding }).toBuffer();
  const cpu: Record<string, number[]> = { on: [], off: [] };
  const bytes: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const [name, flag] of [["on", true], ["off", false]] as const) {
      const started = process.cpuUsage();
      bytes[name] = (await encodeWith(flag)).byteLength;
      cpu[name]!.push(cpuMs(started));
    }
  }
  console.log(
    `original re-encode (${label}): optimiseCoding on ${median(cpu.on!).toFixed(1)} ms CPU, ${MiB(bytes.on!)} MiB; ` +
      `off ${median(cpu.off!).toFixed(1)} ms CPU, ${MiB(bytes.off!)} MiB (×${(median(cpu.off!) / median(cpu.on!)).toFixed(2)} time, ×${(bytes.off! / bytes.on!).toFixed(3)} bytes)`,
  );
}

// ---- 2. memory over many calls ----
const medium = new Uint8Array(await noiseJpeg(1600, 1200));
if (!values["skip-memory"]) {
  const mediumType = sniff(medium)!;
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  const memStarted = performance.now();
  let rssMid = 0;
  for (let i = 0; i < CALLS; i++) {
    await processImage(medium, mediumType);
    if (i === Math.floor(CALLS / 10)) {
      Bun.gc(true);
      rssMid = process.memoryUsage().rss;
    }
  }
  Bun.gc(true);
  const rssAfter = process.memoryUsage().rss;
  console.log(`memory: ${CALLS} × processImage(1600x1200 JPEG) in ${((performance.now() - memStarted) / 1000).toFixed(1)} s`);
  console.log(`  RSS before ${MiB(rssBefore)} MiB, after ${CALLS / 10} calls ${MiB(rssMid)} MiB, after ${CALLS} calls ${MiB(rssAfter)} MiB`);
}
sharp.concurrency(0); // back to the default (one thread per core) for the API part

// ---- 3. uploads/s through the API and the job ----
if (!values["skip-api"]) {
  const dbName = decodeURIComponent(new URL(DATABASE_URL).pathname.slice(1));
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  if ((await admin`select 1 from pg_database where datname = ${dbName}`).length === 0) await admin.unsafe(`create database "${dbName.replace(/"/g, '""')}"`);
  await admin.end();
  const root = mkdtempSync(join(tmpdir(), "woolly-bench-media-"));
  const config = loadConfig({
    ...process.env,
    LOCAL_DOMAIN: "bench.test",
    SECRET_KEY_BASE: "be7c".repeat(32),
    DATABASE_URL,
    REDIS_URL,
    REDIS_NAMESPACE: `woolly_bench_media_${process.pid}`,
    PAPERCLIP_ROOT_PATH: root,
    RATE_LIMITS_ENABLED: "false",
    LOG_LEVEL: "error",
  });
  configureLog("error");
  const sql = createDb(config.db, { max: 6 });
  await migrate(sql);
  const redis = createRedis(config.redis, "app", "bench");
  const bull = createRedis(config.redis, "bullmq", "bench-queues");
  await Promise.all([waitForRedis(redis, 5000), waitForRedis(bull, 5000)]);
  const context = { config, sql, redis, queues: new QueueClient(redis, bullPrefix(config.redis.namespace)) };
  const username = `bench${Date.now().toString(36)}`;
  const { account } = await createLocalAccount(sql, config, { username, email: `${username}@example.com`, password: "correct horse battery", confirmed: true });
  const { token } = await issueToken(sql, { userId: account.user.id, applicationId: null, scopes: "write:media" });
  const app = buildWebApp(context);
  const workers = startWorkers({ queues: ["default"], concurrency: 2, registry: jobRegistry, context, connection: bull, prefix: bullPrefix(config.redis.namespace) });
  const started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < UPLOADS; i++) {
    const form = new FormData();
    form.append("file", new Blob([medium]), "photo.jpg");
    const response = await app.handle(new Request("http://localhost/api/v2/media", { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form }));
    if (response.status !== 202) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
    ids.push(((await response.json()) as { id: string }).id);
  }
  const accepted = performance.now() - started;
  for (;;) {
    const [row] = await sql<{ pending: number }[]>`select count(*)::int as pending from media_attachments where id = any(${ids}::bigint[]) and processing = 'pending'`;
    if (row!.pending === 0) break;
    await Bun.sleep(20);
  }
  const elapsed = performance.now() - started;
  const [failed] = await sql<{ n: number }[]>`select count(*)::int as n from media_attachments where id = any(${ids}::bigint[]) and processing <> 'done'`;
  console.log(`API: ${ids.length} × POST /api/v2/media (1600x1200 JPEG, ${MiB(medium.length)} MiB) + media.process, 2 workers`);
  console.log(`  all accepted (202) after ${(accepted / 1000).toFixed(2)} s, all processed after ${(elapsed / 1000).toFixed(2)} s → ${(ids.length / (elapsed / 1000)).toFixed(1)} uploads/s (${failed!.n} not done)`);
  await workers.close(10_000);
  await sql`delete from media_attachments where account_id = ${account.id}`;
  await sql`delete from accounts where id = ${account.id}`;
  await context.queues.close();
  redis.disconnect();
  bull.disconnect();
  await sql.end();
  rmSync(root, { recursive: true, force: true });
}
