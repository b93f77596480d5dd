/**
 * Relay firehose bench (issue 9): `woolly all` from source subscribes to a loopback relay that Announces
 * posts by many remote actors at a fixed rate, while a local user reads the home timeline.
 *
 * - One loopback server plays the relay (its actor, its inbox answering our Follow) and the origin of every
 *   actor and post (/users/aN, /notes/N, each post with one image attachment). woolly fetches each post from
 *   there (as it does for relay traffic) and never the image: media is not downloaded until viewed.
 * - Subscription is the real one: `woolly admin relays add`, then the relay's signed Accept.
 * - Ingress lag of a post = its status row's write time (updated_at) minus the moment its Announce was POSTed.
 *   Home timeline: GET /api/v1/timelines/home every 200 ms during the run (the reader follows a local poster
 *   who posts every second, so the home feed keeps moving). Media: bytes of stored files for remote
 *   attachments (file sizes where file_key is set) — expected 0.
 * - Memory: woolly runs under a real limit for its process group (--memory-mb, default 1024), the best this
 *   machine allows (bench/memory-limit.ts: systemd scope, cgroup v2, cgroup v1, else prlimit); the output
 *   names the method, the group's peak RSS (sampled every second) and the kernel's own peak and limit hits.
 * - Drift: lag p50/p99 and home p99 per minute of the run (by the minute each Announce was sent), printed as a
 *   table at the end; a progress line goes to stderr every minute meanwhile. Relay throttle drops (woolly's
 *   per-relay limit, default 6,000/min) are read from woolly's /metrics.
 *
 *   bun run bench:relay-firehose --duration 600        (the issue's 10 minutes: the documented run)
 *   bun run bench:relay-firehose --duration 120        (a quick look)
 *   options: [--rate 50] [--actors 5000] [--memory-mb 1024] [--drain 60]
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import postgres from "postgres";
import { createLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import { loadConfig } from "../src/infra/config";
import type { Sql } from "../src/infra/db";
import { signCavage } from "../src/infra/http/signatures";
import { env, freePort, REDIS_URL, ROOT } from "./lib";
import { memoryLimit } from "./memory-limit";

const { values } = parseArgs({
  options: { rate: { type: "string" }, duration: { type: "string" }, actors: { type: "string" }, "memory-mb": { type: "string" }, drain: { type: "string" } },
});
const RATE = Number(values.rate ?? 50);
const DURATION = Number(values.duration ?? 600);
const ACTORS = Number(values.actors ?? 5000);
const MEMORY_MB = Number(values["memory-mb"] ?? 1024);
const DRAIN_S = Number(values.drain ?? 60);
for (const [name, value] of Object.entries({ RATE, DURATION, ACTORS, MEMORY_MB, DRAIN_S })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bad --${name.toLowerCase()}: ${value}`);
}
const DATABASE_URL = process.env.BENCH_RELAY_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_relay";
const NAMESPACE = "woolly_bench_relay";
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const quantile = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]! : NaN);

// One key pair for the relay; the actors share one public key (they never sign: the relay does).
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const relayPrivate = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;

let base = "";
const follows: string[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const json = (body: unknown) => Response.json(body, { headers: { "content-type": "application/activity+json" } });
    if (request.method === "POST" && path === "/inbox") {
      const body = (await request.json()) as { type?: string; id?: string };
      if (body.type === "Follow" && body.id) follows.push(body.id);
      return new Response(null, { status: 202 });
    }
    if (request.method === "POST") return new Response(null, { status: 202 });
    if (path === "/relay")
      return json({ "@context": [AS, "https://w3id.org/security/v1"], id: `${base}/relay`, type: "Application", preferredUsername: "relay", inbox: `${base}/inbox`, publicKey: { id: `${base}/relay#main-key`, owner: `${base}/relay`, publicKeyPem: publicPem } });
    let m = /^\/users\/a(\d+)$/.exec(path);
    if (m) {
      const id = `${base}/users/a${m[1]}`;
      return json({ "@context": [AS, "https://w3id.org/security/v1"], id, type: "Person", preferredUsername: `a${m[1]}`, inbox: `${id}/inbox`, endpoints: { sharedInbox: `${base}/inbox` }, publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: publicPem } });
    }
    m = /^\/notes\/(\d+)$/.exec(path);
    if (m) {
      const n = Number(m[1]);
      const actor = `${base}/users/a${n % ACTORS}`;
      return json({
        "@context": AS, id: `${base}/notes/${n}`, type: "Note", attributedTo: actor, published: new Date().toISOString(),
        content: `<p>Relayed post ${n} with <em>a little</em> markup.</p>`, to: [PUBLIC], cc: [`${actor}/followers`],
        attachment: [{ type: "Document", mediaType: "image/png", url: `${base}/media/${n}.png`, name: "an image" }],
      });
    }
    return new Response("not found", { status: 404 });
  },
});
base = `http://127.0.0.1:${server.port}`;

{
  const adminUrl = new URL(DATABASE_URL);
  const name = adminUrl.pathname.slice(1);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
}
{
  const redis = new Redis(REDIS_URL);
  const found = await redis.keys(`*${NAMESPACE}*`);
  for (let i = 0; i < found.length; i += 500) await redis.del(...found.slice(i, i + 500));
  redis.disconnect();
}
const port = await freePort();
const ourBase = `http://127.0.0.1:${port}`;
const woollyEnv = env({
  LOCAL_DOMAIN: `127.0.0.1:${port}`, LOCAL_HTTPS: "false", PORT: String(port), STREAMING_PORT: String(await freePort()),
  DATABASE_URL, REDIS_URL, REDIS_NAMESPACE: NAMESPACE, ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8", RATE_LIMITS_ENABLED: "false",
  LOG_LEVEL: "warn", PAPERCLIP_ROOT_PATH: mkdtempSync(join(tmpdir(), "woolly-relay-media-")),
});
const limit = memoryLimit(MEMORY_MB * 1024 * 1024, `woolly-bench-relay-${process.pid}`);
console.error(`memory limit: ${limit.method}`);
const woolly = Bun.spawn(limit.wrap(["bun", "src/main.ts", "all"]), { cwd: ROOT, env: woollyEnv, stdout: "inherit", stderr: "inherit" });
let woollyExit: string | undefined;
void woolly.exited.then((code) => {
  woollyExit = `exited with ${woolly.signalCode ?? code}`;
});
// Never leave woolly (or our cgroup) behind: on Ctrl-C too.
let cleaned = false;
async function stopWoolly(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  woolly.kill();
  const timer = setTimeout(() => woolly.kill("SIGKILL"), 20_000);
  await woolly.exited;
  clearTimeout(timer);
  limit.cleanup();
}
process.on("exit", () => {
  if (cleaned) return;
  woolly.kill("SIGKILL");
  Bun.sleepSync(300);
  limit.cleanup();
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stopWoolly().finally(() => process.exit(130)));
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${ourBase}/health`)).status === 200) break;
  } catch {}
  if (i > 600 || woollyExit) {
    await stopWoolly();
    throw new Error(`woolly did not become healthy${woollyExit ? ` (${woollyExit})` : ""}`);
  }
  await Bun.sleep(100);
}
const config = loadConfig({ ...process.env, ...woollyEnv });
const sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {} }) as unknown as Sql;
const reader = await createLocalAccount(sql, config, { username: "bench_reader", email: "reader@bench.test", password: "bench-password-1", confirmed: true, approved: true });
const poster = await createLocalAccount(sql, config, { username: "bench_poster", email: "poster@bench.test", password: "bench-password-1", confirmed: true, approved: true });
const readToken = (await issueToken(sql, { userId: reader.account.user.id, applicationId: null, scopes: "read" })).token;
const writeToken = (await issueToken(sql, { userId: poster.account.user.id, applicationId: null, scopes: "read write" })).token;
const readerAuth = { authorization: `Bearer ${readToken}` };
const followed = await fetch(`${ourBase}/api/v1/accounts/${poster.account.id}/follow`, { method: "POST", headers: { authorization: `Bearer ${(await issueToken(sql, { userId: reader.account.user.id, applicationId: null, scopes: "follow" })).token}` } });
if (!followed.ok) throw new Error(`follow failed: ${followed.status}`);

// ---- subscribe, the real way ----
// Not spawnSync: the relay's inbox is served by this very process, which must keep answering meanwhile.
const adding = Bun.spawn(["bun", "src/main.ts", "admin", "relays", "add", `${base}/inbox`], { cwd: ROOT, env: woollyEnv, stderr: "pipe" });
if ((await adding.exited) !== 0) throw new Error(`relays add failed: ${await new Response(adding.stderr).text()}`);
function signedPost(body: string): Promise<Response> {
  const url = new URL(`${ourBase}/inbox`);
  const headers = { "content-type": "application/activity+json", host: url.host };
  return fetch(url, { method: "POST", body, headers: { ...headers, ...signCavage({ method: "POST", url, headers, body, keyId: `${base}/relay#main-key`, privateKeyPem: relayPrivate }) } });
}
await signedPost(JSON.stringify({ "@context": AS, id: `${base}/accepts/1`, type: "Accept", actor: `${base}/relay`, object: follows[0] }));
for (let i = 0; ; i++) {
  const [row] = await sql<{ state: string }[]>`select state from relays`;
  if (row?.state === "accepted") break;
  if (i > 200) throw new Error(`relay not accepted (${row?.state})`);
  await Bun.sleep(100);
}
// The cache of accepted relays in the web process lasts 10 s.
await Bun.sleep(11_000);

// ---- the run ----
const total = RATE * DURATION;
const sentAt = new Map<string, number>();
const homeMs: number[] = [];
const homeAt: number[] = [];
let homeErrors = 0;
let maxRss = 0;
let running = true;
const reading = (async () => {
  while (running && !woollyExit) {
    const t = performance.now();
    try {
      const r = await fetch(`${ourBase}/api/v1/timelines/home?limit=20`, { headers: readerAuth });
      await r.arrayBuffer();
      if (r.ok) {
        homeMs.push(performance.now() - t);
        homeAt.push(t);
      } else homeErrors++;
    } catch {
      homeErrors++;
    }
    await Bun.sleep(200);
  }
})();
const sampling = (async () => {
  while (running && !woollyExit) {
    maxRss = Math.max(maxRss, limit.groupRss(woolly.pid));
    await Bun.sleep(1000);
  }
})();
const posting = (async () => {
  let n = 0;
  while (running) {
    await fetch(`${ourBase}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${writeToken}`, "content-type": "application/json" }, body: JSON.stringify({ status: `home post ${++n}` }) }).catch(() => {});
    await Bun.sleep(1000);
  }
})();
const started = performance.now();
const startedWall = Date.now();
let refused = 0;
let sent = 0;
const storedCount = async () => Number((await sql`select count(*)::int as n from statuses where uri like ${`${base}/notes/%`}`)[0]!.n);
/** woolly's relay throttle counter (woolly_relay_activities_total{outcome="throttled"}), from its /metrics. */
async function throttled(): Promise<number> {
  try {
    const text = await (await fetch(`${ourBase}/metrics`)).text();
    return [...text.matchAll(/^woolly_relay_activities_total\{[^}]*outcome="throttled"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  } catch {
    return NaN;
  }
}
const progress = setInterval(async () => {
  const minute = Math.round((Date.now() - startedWall) / 60_000);
  console.error(`[${minute} min] sent ${sent}, stored ${await storedCount().catch(() => NaN)}, throttled ${await throttled()}, group RSS ${Math.round(maxRss / 1048576)} MB max${woollyExit ? `, woolly ${woollyExit}` : ""}`);
}, 60_000);
const inFlight = new Set<Promise<void>>();
for (let i = 0; i < total && !woollyExit; i++) {
  const due = started + (i / RATE) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await Bun.sleep(wait);
  const uri = `${base}/notes/${i}`;
  const body = JSON.stringify({ "@context": AS, id: `${base}/announces/${i}`, type: "Announce", actor: `${base}/relay`, object: uri, to: [PUBLIC] });
  sentAt.set(uri, Date.now());
  sent++;
  const p = signedPost(body)
    .then((r) => {
      if (r.status !== 202) refused++;
    })
    .catch(() => {
      refused++;
    })
    .finally(() => inFlight.delete(p));
  inFlight.add(p);
}
await Promise.all(inFlight);
// Wait for the backlog (at most --drain seconds), still reading the home timeline. Throttled Announces
// never become posts, so they are not waited for.
const drainDeadline = Date.now() + DRAIN_S * 1000;
let stored = 0;
while (Date.now() < drainDeadline && !woollyExit) {
  stored = await storedCount();
  if (stored >= sent - refused - ((await throttled()) || 0)) break;
  await Bun.sleep(500);
}
clearInterval(progress);
const throttledTotal = await throttled();
running = false;
await Promise.all([reading, posting, sampling]);
const rows = await sql<{ uri: string; at: Date }[]>`select uri, updated_at as at from statuses where uri like ${`${base}/notes/%`}`;
const lags = rows.map((r) => r.at.getTime() - (sentAt.get(r.uri) ?? r.at.getTime()));
const [media] = await sql<{ rows: number; bytes: string | null }[]>`select count(*)::int as rows, sum(file_size + small_file_size)::text as bytes from media_attachments where remote_url is not null and file_key is not null`;
const [attachments] = await sql<{ n: number }[]>`select count(*)::int as n from media_attachments where remote_url is not null`;


// Per minute of the run (by when the Announce was sent; home reads by when they started).
const perMinute: { minute: number; sent: number; stored: number; lagP50Ms: number; lagP99Ms: number; homeP99Ms: number }[] = [];
const minutes = Math.ceil(DURATION / 60);
const sentByMinute = new Array<number>(minutes).fill(0);
for (const at of sentAt.values()) sentByMinute[Math.min(minutes - 1, Math.floor((at - startedWall) / 60_000))]!++;
const lagsByMinute = Array.from({ length: minutes }, () => [] as number[]);
for (const r of rows) {
  const at = sentAt.get(r.uri);
  if (at !== undefined) lagsByMinute[Math.min(minutes - 1, Math.floor((at - startedWall) / 60_000))]!.push(r.at.getTime() - at);
}
const homeByMinute = Array.from({ length: minutes }, () => [] as number[]);
homeMs.forEach((ms, i) => homeByMinute[Math.min(minutes - 1, Math.max(0, Math.floor((homeAt[i]! - started) / 60_000)))]!.push(ms));
for (let m = 0; m < minutes; m++) {
  perMinute.push({ minute: m + 1, sent: sentByMinute[m]!, stored: lagsByMinute[m]!.length, lagP50Ms: quantile(lagsByMinute[m]!, 0.5), lagP99Ms: quantile(lagsByMinute[m]!, 0.99), homeP99Ms: +quantile(homeByMinute[m]!, 0.99).toFixed(1) });
}
console.log("minute\tsent\tstored\tlag p50 ms\tlag p99 ms\thome p99 ms");
for (const m of perMinute) console.log(`${m.minute}\t${m.sent}\t${m.stored}\t${m.lagP50Ms}\t${m.lagP99Ms}\t${m.homeP99Ms}`);

// Read while the group still exists (stopping removes the cgroup we made).
const earlyExit = woollyExit;
const kernelPeak = limit.kernelPeak();
const limitEvents = limit.limitEvents();
await stopWoolly();
const lagP99 = quantile(lags, 0.99);
const homeP99 = quantile(homeMs, 0.99);
const mediaBytes = Number(media!.bytes ?? 0);
console.log(JSON.stringify({
  rate: RATE, durationS: DURATION, actors: ACTORS, announcesSent: sent, refused, throttled: throttledTotal, stored: rows.length,
  ingressLagMs: { p50: quantile(lags, 0.5), p99: lagP99, max: lags.length ? Math.max(...lags) : NaN },
  homeTimelineMs: { n: homeMs.length, p50: +quantile(homeMs, 0.5).toFixed(1), p99: +homeP99.toFixed(1), errors: homeErrors },
  remoteAttachmentRows: attachments!.n, cachedMediaFiles: media!.rows, cachedMediaBytes: mediaBytes,
  memoryLimit: { method: limit.method, limitMB: MEMORY_MB, groupPeakRssMB: Math.round(maxRss / 1048576), kernelPeakMB: kernelPeak === undefined ? null : Math.round(kernelPeak / 1048576), events: limitEvents ?? null },
  woollyExitedEarly: earlyExit ?? null,
  targets: { ingressLagUnder10s: lagP99 < 10_000, homeP99Under100ms: homeP99 < 100, mediaBytesZero: mediaBytes === 0, survivedMemoryLimit: earlyExit === undefined },
}, null, 2));
server.stop(true);
await (sql as unknown as { end(): Promise<void> }).end();
process.exit(0);
