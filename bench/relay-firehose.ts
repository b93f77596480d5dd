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
 *   attachments (file sizes where file_key is set) — expected 0. RSS: woolly's VmRSS, max.
 *
 *   bun run bench:relay-firehose [--rate 50] [--duration 60] [--actors 5000]
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
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

const { values } = parseArgs({ options: { rate: { type: "string" }, duration: { type: "string" }, actors: { type: "string" } } });
const RATE = Number(values.rate ?? 50);
const DURATION = Number(values.duration ?? 60);
const ACTORS = Number(values.actors ?? 5000);
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
const woolly = Bun.spawn(["bun", "src/main.ts", "all"], { cwd: ROOT, env: woollyEnv, stdout: "inherit", stderr: "inherit" });
process.on("exit", () => woolly.kill());
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${ourBase}/health`)).status === 200) break;
  } catch {}
  if (i > 600) throw new Error("woolly did not become healthy");
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
let homeErrors = 0;
let maxRss = 0;
let running = true;
const rssOf = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${woolly.pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
const reading = (async () => {
  while (running) {
    const t = performance.now();
    const r = await fetch(`${ourBase}/api/v1/timelines/home?limit=20`, { headers: readerAuth });
    await r.arrayBuffer();
    if (r.ok) homeMs.push(performance.now() - t);
    else homeErrors++;
    maxRss = Math.max(maxRss, rssOf());
    await Bun.sleep(200);
  }
})();
const posting = (async () => {
  let n = 0;
  while (running) {
    await fetch(`${ourBase}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${writeToken}`, "content-type": "application/json" }, body: JSON.stringify({ status: `home post ${++n}` }) });
    await Bun.sleep(1000);
  }
})();
const started = performance.now();
let refused = 0;
const inFlight = new Set<Promise<void>>();
for (let i = 0; i < total; i++) {
  const due = started + (i / RATE) * 1000;
  const wait = due - performance.now();
  if (wait > 0) await Bun.sleep(wait);
  const uri = `${base}/notes/${i}`;
  const body = JSON.stringify({ "@context": AS, id: `${base}/announces/${i}`, type: "Announce", actor: `${base}/relay`, object: uri, to: [PUBLIC] });
  sentAt.set(uri, Date.now());
  const p = signedPost(body).then((r) => {
    if (r.status !== 202) refused++;
  }).finally(() => inFlight.delete(p));
  inFlight.add(p);
}
await Promise.all(inFlight);
// Wait for the backlog (at most 60 s), still reading the home timeline.
const drainDeadline = Date.now() + 60_000;
let stored = 0;
while (Date.now() < drainDeadline) {
  stored = Number((await sql`select count(*)::int as n from statuses where uri like ${`${base}/notes/%`}`)[0]!.n);
  if (stored >= total - refused) break;
  await Bun.sleep(500);
}
running = false;
await Promise.all([reading, posting]);
const rows = await sql<{ uri: string; at: Date }[]>`select uri, updated_at as at from statuses where uri like ${`${base}/notes/%`}`;
const lags = rows.map((r) => r.at.getTime() - (sentAt.get(r.uri) ?? r.at.getTime()));
const [media] = await sql<{ rows: number; bytes: string | null }[]>`select count(*)::int as rows, sum(file_size + small_file_size)::text as bytes from media_attachments where remote_url is not null and file_key is not null`;
const [attachments] = await sql<{ n: number }[]>`select count(*)::int as n from media_attachments where remote_url is not null`;

console.log(JSON.stringify({
  rate: RATE, durationS: DURATION, actors: ACTORS, announcesSent: total, refused, stored: rows.length,
  ingressLagMs: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: Math.max(...lags) },
  homeTimelineMs: { n: homeMs.length, p50: +quantile(homeMs, 0.5).toFixed(1), p99: +quantile(homeMs, 0.99).toFixed(1), errors: homeErrors },
  remoteAttachmentRows: attachments!.n, cachedMediaFiles: media!.rows, cachedMediaBytes: Number(media!.bytes ?? 0),
  woollyMaxRssMB: Math.round(maxRss / 1048576),
}, null, 2));
woolly.kill();
await woolly.exited;
server.stop(true);
await (sql as unknown as { end(): Promise<void> }).end();
process.exit(0);
