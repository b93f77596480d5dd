/**
 * Idle memory of the compiled binary running every role in one process: `woolly all --port P` (web,
 * streaming, workers, scheduler). Waits for the first 200 from GET /health, then idles, then reads VmRSS
 * from /proc/<pid>/status several times and reports the median. Target: < 120 MiB (figures are MiB: kB from /proc divided by 1024).
 *
 *   bun bench/idle-rss.ts [--binary dist/woolly] [--rebuild] [--idle 5] [--samples 5] [--json]
 *
 * - Reuses dist/woolly when it exists (--rebuild forces `bun scripts/build.ts`).
 * - DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/woolly_bench (created if missing, then
 *   `woolly migrate` is run into it); REDIS_URL to redis://127.0.0.1:6379.
 * - Should `all` ever start child processes, their RSS is reported too (and counted in the total).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { DATABASE_URL, REDIS_URL, ROOT, env, freePort, prepareDatabase, sh } from "./lib";

const TARGET_MB = 120;
const START_TIMEOUT_MS = 30_000;

interface Args {
  binary: string;
  rebuild: boolean;
  idleSeconds: number;
  samples: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { binary: join(ROOT, "dist/woolly"), rebuild: false, idleSeconds: 5, samples: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--binary") args.binary = resolve(argv[++i] ?? "");
    else if (arg === "--rebuild") args.rebuild = true;
    else if (arg === "--idle") args.idleSeconds = Math.max(0, Number(argv[++i] ?? "5") || 0);
    else if (arg === "--samples") args.samples = Math.max(1, Number.parseInt(argv[++i] ?? "", 10) || 5);
    else if (arg === "--json") args.json = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}




/** Creates the bench database when missing and migrates it with the binary under test. */


/** kB value of a field of /proc/<pid>/status (VmRSS, VmHWM, Threads…), or undefined if gone. */
function procStatus(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Every descendant of pid (children, grandchildren…), from /proc/<n>/stat's ppid field. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const result: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        result.push(child);
        frontier.push(child);
      }
    }
  }
  return result;
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.rebuild || !existsSync(args.binary)) {
    console.error("building…");
    await sh(["bun", "scripts/build.ts", "--outfile", args.binary]);
  }
  const version = Bun.spawnSync([args.binary, "version"], { env: env() }).stdout.toString().trim();
  await prepareDatabase(args.binary);

  const port = await freePort();
  const streamingPort = await freePort();
  const url = `http://127.0.0.1:${port}/health`;
  const started = performance.now();
  const proc = Bun.spawn([args.binary, "all", "--port", String(port)], {
    cwd: ROOT,
    env: env({ STREAMING_PORT: String(streamingPort) }),
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  let exitCode: number | "timeout" | undefined;
  try {
    let readyMs = 0;
    while (readyMs === 0) {
      if (proc.exitCode !== null) throw new Error(`woolly all exited ${proc.exitCode} before answering: ${await stderr}`);
      if (performance.now() - started > START_TIMEOUT_MS) throw new Error(`no 200 from ${url} within ${START_TIMEOUT_MS} ms`);
      try {
        const res = await fetch(url, { keepalive: false, signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) readyMs = performance.now() - started;
      } catch {
        // not listening yet
      }
      if (readyMs === 0) await Bun.sleep(5);
    }
    console.error(`ready after ${readyMs.toFixed(0)} ms; idling ${args.idleSeconds} s…`);
    await Bun.sleep(args.idleSeconds * 1000);

    const mainSamples: number[] = [];
    const totalSamples: number[] = [];
    let children: number[] = [];
    for (let i = 0; i < args.samples; i++) {
      if (i > 0) await Bun.sleep(500);
      const rss = procStatus(proc.pid, "VmRSS");
      if (rss === undefined) throw new Error(`woolly all (pid ${proc.pid}) is gone: ${await stderr}`);
      children = descendants(proc.pid);
      const childRss = children.reduce((sum, pid) => sum + (procStatus(pid, "VmRSS") ?? 0), 0);
      mainSamples.push(rss / 1024);
      totalSamples.push((rss + childRss) / 1024);
    }
    const result = {
      version,
      binary: relative(ROOT, args.binary),
      sizeBytes: statSync(args.binary).size,
      readyMs,
      idleSeconds: args.idleSeconds,
      medianRssMb: median(mainSamples),
      medianTotalRssMb: median(totalSamples),
      peakRssMb: (procStatus(proc.pid, "VmHWM") ?? 0) / 1024,
      threads: procStatus(proc.pid, "Threads"),
      childProcesses: children.length,
      targetMb: TARGET_MB,
      ratioToTarget: median(totalSamples) / TARGET_MB,
      samplesMb: mainSamples.map((s) => Math.round(s * 10) / 10),
    };

    proc.kill("SIGTERM");
    exitCode = await Promise.race([proc.exited, Bun.sleep(30_000).then(() => "timeout" as const)]);

    if (args.json) {
      console.log(JSON.stringify({ ...result, exitAfterSigterm: exitCode }, null, 2));
    } else {
      console.log(`idle RSS: \`woolly all --port P\`, ${args.idleSeconds} s after the first 200 from /health (${version})`);
      console.log(
        `  median VmRSS ${result.medianRssMb.toFixed(1)} MiB (${(result.ratioToTarget * 100).toFixed(0)}% of the ${TARGET_MB} MiB target)` +
          `  peak ${result.peakRssMb.toFixed(1)} MiB  threads ${result.threads}  samples ${result.samplesMb.join(", ")}`,
      );
      if (result.childProcesses > 0) {
        console.log(`  with ${result.childProcesses} child process(es): total ${result.medianTotalRssMb.toFixed(1)} MiB`);
      }
      console.log(
        `  ready after ${readyMs.toFixed(0)} ms; binary ${(result.sizeBytes / 1024 / 1024).toFixed(1)} MiB; exit after SIGTERM: ${exitCode}`,
      );
    }
    return result.medianTotalRssMb < TARGET_MB ? 0 : 1;
  } finally {
    if (proc.exitCode === null) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`idle-rss: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
