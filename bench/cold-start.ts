/**
 * Cold start of the compiled binary: wall time from spawn of `woolly web --port P` to the first 200 from
 * GET /health (which checks Postgres and Redis), N times. Target: median < 300 ms.
 *
 *   bun bench/cold-start.ts [--runs 15] [--binary dist/woolly]... [--rebuild] [--compare-bytecode] [--json]
 *
 * - Several --binary options: all are measured, interleaved; the exit code judges the first.
 * - Reuses dist/woolly when it exists (--rebuild forces `bun scripts/build.ts`).
 * - --compare-bytecode rebuilds the binary and also builds dist/woolly-nobytecode (`--no-bytecode`); it measures
 *   both, interleaved run by run so that machine noise hits both alike.
 * - DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/woolly_bench (created if missing, then
 *   `woolly migrate` is run into it); REDIS_URL to redis://127.0.0.1:6379.
 * - One discarded warm-up run per binary first: the figures are for a warm page cache, as on a restart.
 */
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { DATABASE_URL, REDIS_URL, ROOT, env, freePort, prepareDatabase, sh } from "./lib";

const TARGET_MS = 300;
const POLL_MS = 3;
const START_TIMEOUT_MS = 15_000;

interface Args {
  runs: number;
  binary: string;
  /** Further binaries measured interleaved with the first (--binary given more than once). */
  others: string[];
  rebuild: boolean;
  compare: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 15, binary: join(ROOT, "dist/woolly"), others: [], rebuild: false, compare: false, json: false };
  let binaries = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--binary") {
      const path = resolve(argv[++i] ?? "");
      if (binaries++ === 0) args.binary = path;
      else args.others.push(path);
    } else if (arg === "--runs") args.runs = Math.max(1, Number.parseInt(argv[++i] ?? "", 10) || 15);
    else if (arg === "--rebuild") args.rebuild = true;
    else if (arg === "--compare-bytecode") args.compare = true;
    else if (arg === "--json") args.json = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}




async function build(outfile: string, bytecode: boolean): Promise<void> {
  console.error(`building ${relative(ROOT, outfile)} (bytecode ${bytecode ? "on" : "off"})…`);
  await sh(["bun", "scripts/build.ts", "--outfile", outfile, ...(bytecode ? [] : ["--no-bytecode"])]);
}

/** Creates the bench database when missing and migrates it with the binary under test. */


/** Spawns `binary web --port P`, returns ms until the first 200 from /health; stops the process. */
async function coldStart(binary: string): Promise<number> {
  const port = await freePort();
  const streamingPort = await freePort();
  const url = `http://127.0.0.1:${port}/health`;
  const started = performance.now();
  const proc = Bun.spawn([binary, "web", "--port", String(port)], {
    cwd: ROOT,
    env: env({ STREAMING_PORT: String(streamingPort) }),
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  try {
    while (true) {
      if (proc.exitCode !== null) throw new Error(`${binary} web exited ${proc.exitCode} before answering: ${await stderr}`);
      if (performance.now() - started > START_TIMEOUT_MS) throw new Error(`no 200 from ${url} within ${START_TIMEOUT_MS} ms`);
      try {
        const res = await fetch(url, { keepalive: false, signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - started;
      } catch {
        // not listening yet
      }
      await Bun.sleep(POLL_MS);
    }
  } finally {
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited, Bun.sleep(30_000).then(() => "timeout" as const)]);
    if (exited === "timeout") {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }
}

function percentile(sorted: number[], p: number): number {
  // nearest-rank
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function summarize(label: string, binary: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const median =
    sorted.length % 2 === 1
      ? sorted[(sorted.length - 1) / 2]!
      : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return {
    label,
    binary: relative(ROOT, binary),
    sizeBytes: statSync(binary).size,
    runs: samples.length,
    medianMs: median,
    p90Ms: percentile(sorted, 90),
    minMs: sorted[0]!,
    maxMs: sorted[sorted.length - 1]!,
    targetMs: TARGET_MS,
    ratioToTarget: median / TARGET_MS,
    samplesMs: samples.map((s) => Math.round(s * 10) / 10),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.rebuild || args.compare || !existsSync(args.binary)) await build(args.binary, true);
  const binaries: Array<{ label: string; path: string }> = [{ label: relative(ROOT, args.binary), path: args.binary }];
  if (args.compare) {
    const plain = join(ROOT, "dist/woolly-nobytecode");
    await build(plain, false);
    binaries.push({ label: `${relative(ROOT, plain)}`, path: plain });
  }
  for (const other of args.others) binaries.push({ label: relative(ROOT, other), path: other });
  const version = Bun.spawnSync([args.binary, "version"], { env: env() }).stdout.toString().trim();
  await prepareDatabase(args.binary);

  for (const b of binaries) await coldStart(b.path); // warm-up, discarded
  const samples = binaries.map(() => [] as number[]);
  for (let i = 0; i < args.runs; i++) {
    for (const [j, b] of binaries.entries()) samples[j]!.push(await coldStart(b.path));
  }
  const results = binaries.map((b, j) => summarize(b.label, b.path, samples[j]!));

  if (args.json) {
    console.log(JSON.stringify({ version, results }, null, 2));
  } else {
    console.log(`cold start: spawn \`woolly web --port P\` → first 200 from /health (${version}, ${args.runs} runs, poll ${POLL_MS} ms)`);
    const width = Math.max(...results.map((r) => r.label.length));
    for (const r of results) {
      console.log(
        `  ${r.label.padEnd(width)} median ${r.medianMs.toFixed(1)} ms  p90 ${r.p90Ms.toFixed(1)} ms  ` +
          `min ${r.minMs.toFixed(1)} ms  max ${r.maxMs.toFixed(1)} ms  ` +
          `(${(r.ratioToTarget * 100).toFixed(0)}% of the ${TARGET_MS} ms target)  binary ${(r.sizeBytes / 1024 / 1024).toFixed(1)} MiB`,
      );
    }
  }
  return results[0]!.medianMs < TARGET_MS ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`cold-start: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
