/**
 * Delivery fan-out bench: one public post by an account with 1,000 remote followers, each on its own server
 * (a distinct loopback shared inbox, i.e. its own port), delivered by `woolly worker --queues push` run from
 * source. Targets (issue 6): all 1,000 delivered in < 10 s; with 100 of them dead (50 refusing connections,
 * 50 accepting and never answering) the 900 live ones still in < 15 s.
 *
 * The receivers run in a child process (this file with --receiver): 1,000 Bun.serve listeners that check
 * each POST's draft-cavage signature (digest, date, RSA with the poster's key) and count the verified ones,
 * plus one TCP listener that accepts and never answers (the hanging servers). The refused ones point at
 * closed ports. Timing: from just before the post is created (postStatus, as the API calls it) until the
 * receivers have counted every live delivery.
 *
 *   bun run bench:delivery-fanout [--concurrency 5,100] [--inboxes 1000] [--dead 100]
 */
import { createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createLocalAccount } from "../src/features/accounts/service";
import { trackFailure } from "../src/features/federation/failure-tracker";
import { postStatus } from "../src/features/statuses/service";
import { loadConfig } from "../src/infra/config";
import type { AppContext } from "../src/infra/context";
import { createDb } from "../src/infra/db";
import { parseSignature } from "../src/infra/http/signatures";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { bullPrefix, QueueClient } from "../src/infra/queues/client";
import { createRedis, waitForRedis } from "../src/infra/redis";
import { env, freePort, ROOT } from "./lib";

const { values } = parseArgs({
  options: {
    receiver: { type: "boolean" },
    concurrency: { type: "string" },
    inboxes: { type: "string" },
    dead: { type: "string" },
    keys: { type: "string" },
  },
});

// ---------------------------------------------------------------------------------------------------------
// The receivers (child process).
if (values.receiver) {
  const count = Number(values.inboxes ?? 1000);
  const keys = (await Bun.file(values.keys!).json()) as Record<string, string>;
  let verified = 0;
  let rejected = 0;
  let lastAt = 0;
  const hanging: Socket[] = [];
  const hangServer = createServer((socket) => hanging.push(socket)).listen(0, "127.0.0.1");
  await new Promise((ok) => hangServer.once("listening", ok));
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        const body = new Uint8Array(await request.arrayBuffer());
        try {
          const signature = parseSignature({ method: "POST", urls: [request.url], headers: request.headers, body });
          const pem = keys[signature.keyId];
          if (!pem || !signature.verify(pem)) throw new Error("bad signature");
          verified++;
          lastAt = Date.now();
          return new Response(null, { status: 202 });
        } catch {
          rejected++;
          return new Response(null, { status: 401 });
        }
      },
    });
    ports.push(server.port!);
  }
  const control = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => Response.json({ verified, rejected, lastAt, hanging: hanging.length }),
  });
  console.log(JSON.stringify({ ports, hangPort: (hangServer.address() as { port: number }).port, control: control.port }));
  await new Promise(() => {});
}

// ---------------------------------------------------------------------------------------------------------
// The bench (parent).
const CONCURRENCIES = (values.concurrency ?? "5,100").split(",").map(Number);
const INBOXES = Number(values.inboxes ?? 1000);
const DEAD = Number(values.dead ?? 100);
const DATABASE_URL = process.env.BENCH_DELIVERY_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_delivery";
const NAMESPACE = `woolly_bench_delivery_${process.pid}`;
const ENV = env({
  LOCAL_HTTPS: "false",
  DATABASE_URL,
  REDIS_NAMESPACE: NAMESPACE,
  ALLOWED_PRIVATE_ADDRESSES: "127.0.0.0/8",
  LOG_LEVEL: "error",
});

{
  const name = new URL(DATABASE_URL).pathname.slice(1);
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
}
const config = loadConfig({ ...process.env, ...ENV });
configureLog("error");
const sql = createDb(config.db, { max: 4 });
await migrate(sql);
const redis = createRedis(config.redis, "app", "woolly-bench");
await waitForRedis(redis, 5000);
const queues = new QueueClient(redis, bullPrefix(NAMESPACE));
const context: AppContext = { config, sql, redis, queues };

interface Scenario {
  name: string;
  dead: number;
  /** The dead servers already failed on an earlier day (the steady state: servers rarely die mid-post). */
  knownFailing: boolean;
}
const scenarios: Scenario[] = [
  { name: `${INBOXES} live`, dead: 0, knownFailing: false },
  { name: `${INBOXES - DEAD} live + ${DEAD / 2} refusing + ${DEAD / 2} hanging, first failure`, dead: DEAD, knownFailing: false },
  { name: `${INBOXES - DEAD} live + ${DEAD / 2} refusing + ${DEAD / 2} hanging, failures on record`, dead: DEAD, knownFailing: true },
];

// One poster per (scenario, concurrency) so every run starts from fresh follows and fresh job ids.
const runs = scenarios.flatMap((scenario) => CONCURRENCIES.map((concurrency) => ({ scenario, concurrency })));
const posters = [];
for (const [i] of runs.entries()) {
  posters.push(
    (await createLocalAccount(sql, config, { username: `bench_fanout_${i}`, email: `bench_fanout_${i}@example.com`, password: "bench password 1", confirmed: true }))
      .account,
  );
}
const keyFile = `/tmp/woolly-bench-delivery-keys-${process.pid}.json`;
await Bun.write(keyFile, JSON.stringify(Object.fromEntries(posters.map((p) => [`${p.uri}#main-key`, p.public_key]))));

const receiver = Bun.spawn(["bun", import.meta.path, "--receiver", "--inboxes", String(INBOXES), "--keys", keyFile], { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
const reader = receiver.stdout.getReader();
let line = "";
while (!line.includes("\n")) {
  const { value, done } = await reader.read();
  if (done) throw new Error("the receiver exited");
  line += new TextDecoder().decode(value);
}
const { ports, hangPort, control } = JSON.parse(line.split("\n")[0]!) as { ports: number[]; hangPort: number; control: number };
const stats = async () => (await (await fetch(`http://127.0.0.1:${control}/`)).json()) as { verified: number; rejected: number; lastAt: number };
const refusedPorts: number[] = [];
for (let i = 0; i < DEAD / 2; i++) refusedPorts.push(await freePort());

async function seedFollowers(posterId: string, run: number, dead: number): Promise<{ live: number; deadInboxes: string[] }> {
  const inboxes: string[] = [];
  const live = INBOXES - dead;
  for (let i = 0; i < live; i++) inboxes.push(`http://127.0.0.1:${ports[i]}/inbox`);
  for (let i = 0; i < dead / 2; i++) inboxes.push(`http://127.0.0.1:${refusedPorts[i]}/inbox`);
  for (let i = 0; i < dead / 2; i++) inboxes.push(`http://127.0.0.1:${hangPort}/inbox/${i}`);
  const rows = inboxes.map((inbox, i) => ({
    username: `r${run}_${i}`,
    domain: `r${run}-${i}.bench.test`,
    uri: `https://r${run}-${i}.bench.test/users/r`,
    inbox_url: inbox,
    shared_inbox_url: inbox,
  }));
  for (let i = 0; i < rows.length; i += 500) await sql`insert into accounts ${sql(rows.slice(i, i + 500), "username", "domain", "uri", "inbox_url", "shared_inbox_url")}`;
  await sql`insert into follows (account_id, target_account_id)
    select id, ${posterId} from accounts where domain like ${`r${run}-%.bench.test`}`;
  return { live, deadInboxes: inboxes.slice(live) };
}

const results: string[] = [];
for (const [i, { scenario, concurrency }] of runs.entries()) {
  const poster = posters[i]!;
  const { live, deadInboxes } = await seedFollowers(poster.id, i, scenario.dead);
  // A namespace per run: retries left from an earlier run (dead inboxes) must not share this run's worker.
  const namespace = `${NAMESPACE}_${i}`;
  const runContext: AppContext = { ...context, config: { ...config, redis: { ...config.redis, namespace } }, queues: new QueueClient(redis, bullPrefix(namespace)) };
  const worker = Bun.spawn(["bun", "src/main.ts", "worker", "--queues", "push", "--concurrency", String(concurrency)], {
    cwd: ROOT,
    env: { ...ENV, REDIS_NAMESPACE: namespace },
    stdout: "ignore",
    stderr: "inherit",
  });
  await Bun.sleep(1500); // the worker connects and starts polling
  if (scenario.knownFailing) for (const inbox of deadInboxes) await trackFailure(runContext, inbox, new Date(Date.now() - 86_400_000));
  const before = (await stats()).verified;
  const { findLocalAccount } = await import("../src/features/accounts/service");
  const author = await findLocalAccount(sql, poster.username);
  const started = Date.now();
  await postStatus(runContext, author, { status: "Fan-out bench post", visibility: "public" });
  const deadline = started + 60_000;
  let now = await stats();
  while (now.verified - before < live && Date.now() < deadline) {
    await Bun.sleep(20);
    now = await stats();
  }
  const delivered = now.verified - before;
  const seconds = ((now.lastAt || Date.now()) - started) / 1000;
  const line = `| ${scenario.name} | ${concurrency} | ${delivered} / ${live} | ${delivered >= live ? `${seconds.toFixed(2)} s` : `> 60 s (timed out)`} | ${scenario.dead ? "< 15 s" : "< 10 s"} |`;
  console.log(line);
  results.push(line);
  worker.kill();
  await worker.exited;
  await runContext.queues.close();
}

console.log("\n| Scenario | push concurrency | delivered (verified by receivers) | all live delivered after | target |\n|---|---|---|---|---|");
for (const r of results) console.log(r);
receiver.kill();
await Bun.file(keyFile).delete();
// Leave Redis as we found it: this run's queues, retries and failure records.
for (let cursor = "0"; ; ) {
  const [next, keys] = await redis.scan(cursor, "MATCH", `${NAMESPACE}*`, "COUNT", 1000);
  if (keys.length > 0) await redis.del(...keys);
  cursor = next;
  if (cursor === "0") break;
}
await queues.close();
redis.disconnect();
await sql.end();
process.exit(0);
