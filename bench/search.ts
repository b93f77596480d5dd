/**
 * Full-text search bench: 1,000,000 statuses in Postgres, searched the way /api/v2/search does.
 *
 * Data (seeded once into a database of its own, default woolly_bench_search; reseed with --reseed):
 *   - posts one every 31.5 s over the past year, their ids time-sortable like woolly_id()'s: search walks back
 *     in time (a day, a week, two months, the rest), so how the posts spread over time matters;
 *   - 1,000 author accounts (indexable, so their public posts are searchable by anyone) and bench_searcher;
 *   - 1,000,000 statuses of 12 words each drawn from a 5,000-word vocabulary with a Zipf-like (log-uniform)
 *     rank distribution, so a few words are in most posts and most words in few, as in real text; 70 %
 *     English, 15 % German, 15 % without a language; 80 % public, 10 % unlisted, 5 % private, 5 % direct;
 *     one INSERT … SELECT generate_series, the GIN index (statuses_search) dropped during the load and
 *     rebuilt after (its build time is reported);
 *   - bench_searcher has favourited 1,000 posts (the interaction part of "searchable").
 *
 * Measured (same code as the API: features/search/service.ts `search`, type=statuses, limit 20):
 *   1. --queries single-word queries, the word drawn uniformly from the vocabulary ranks 50–5,000;
 *   2. --queries two-word queries (two such words, both required);
 *   3. the 10 most frequent words on their own (the worst case: they are in most posts);
 *   4. --http queries through HTTP (`woolly web` from source, one connection, sequential).
 * Median and p99 for each (target p99 < 100 ms), and the index size (pg_relation_size).
 *
 *   bun run bench:search [--queries 500] [--http 100] [--reseed]
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createLocalAccount, findLocalAccount } from "../src/features/accounts/service";
import { issueToken } from "../src/features/auth/tokens";
import { search } from "../src/features/search/service";
import { loadConfig } from "../src/infra/config";
import type { AppContext } from "../src/infra/context";
import { createDb } from "../src/infra/db";
import { configureLog } from "../src/infra/log";
import { migrate } from "../src/infra/migrate";
import { env, freePort, ROOT } from "./lib";

const { values } = parseArgs({ options: { queries: { type: "string" }, http: { type: "string" }, reseed: { type: "boolean" } } });
const QUERIES = Number(values.queries ?? 500);
const HTTP = Number(values.http ?? 100);

const DATABASE_URL = process.env.BENCH_SEARCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/woolly_bench_search";
const AUTHORS = 1000;
const STATUSES = 1_000_000;
const VOCABULARY = 5000;
const WORDS_PER_STATUS = 12;
/** One post every 31.5 s: the million spans the year before now, ids (ms << 16) spaced like real ones. */
const SPACING_MS = 31_500;

const ENV = env({ LOCAL_HTTPS: "false", DATABASE_URL, REDIS_NAMESPACE: "woolly_bench_search", RATE_LIMITS_ENABLED: "false", LOG_LEVEL: "warn" });

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

/** A small seeded generator (mulberry32): the same words and queries on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deterministic vocabulary of pronounceable words (consonant-vowel syllables), so English and German
 * stemmers have endings to work on: "-ing", "-s", "-en" endings are mixed in.
 */
function vocabulary(): string[] {
  const consonants = "bcdfghklmnprstvz";
  const vowels = "aeiou";
  const endings = ["", "", "s", "ing", "ed", "en", "er", "ly"];
  const words = new Set<string>();
  const rand = random(42);
  while (words.size < VOCABULARY) {
    const syllables = 2 + Math.floor(rand() * 3);
    let word = "";
    for (let i = 0; i < syllables; i++) word += consonants[Math.floor(rand() * consonants.length)]! + vowels[Math.floor(rand() * vowels.length)]!;
    words.add(word + endings[Math.floor(rand() * endings.length)]!);
  }
  return [...words];
}
const WORDS = vocabulary();

// ---- database: create, migrate, seed ----
{
  const name = new URL(DATABASE_URL).pathname.slice(1);
  const adminUrl = new URL(DATABASE_URL);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  if (values.reseed) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  if ((await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`).length === 0) await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
}
const config = loadConfig({ ...process.env, ...ENV });
configureLog("warn");
const sql = createDb(config.db, { max: 4 });
await migrate(sql);

async function seed() {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from statuses`;
  if (row!.count >= STATUSES) return;
  console.error(`seeding ${STATUSES.toLocaleString()} statuses…`);
  let started = performance.now();
  const searcher = await createLocalAccount(sql, config, { username: "bench_searcher", email: "bench_searcher@example.com", password: "bench password 1", confirmed: true });
  await sql`insert into accounts (username, uri, indexable) select 'bench_author_' || g, 'http://localhost/users/bench_author_' || g, true from generate_series(1, ${AUTHORS}) g`;
  await sql`drop index if exists statuses_search`;
  // Word rank r with probability ∝ 1/r: exp(random() · ln N) is log-uniform over [1, N].
  // `g > 0` ties the word subquery to the row, or Postgres would compute one text for all rows.
  await sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`;
    await tx`
      insert into statuses (id, account_id, text, content, visibility, language, uri, created_at)
      select (t0.ms + g::bigint * ${SPACING_MS}) << 16, a.ids[1 + (g % ${AUTHORS})], '', '<p>' || w.text || '</p>',
             case when g % 20 = 0 then 'direct' when g % 20 = 1 then 'private' when g % 10 = 2 then 'unlisted' else 'public' end,
             case when g % 20 < 14 then 'en' when g % 20 < 17 then 'de' else null end,
             '', to_timestamp((t0.ms + g::bigint * ${SPACING_MS}) / 1000.0)
      from generate_series(1, ${STATUSES}) g
      cross join (select floor(extract(epoch from now()) * 1000)::bigint - ${STATUSES} * ${SPACING_MS}::bigint as ms) t0
      cross join (select array_agg(id order by id) as ids from accounts where username like 'bench_author_%') a
      cross join lateral (
        select string_agg((${WORDS}::text[])[least(${VOCABULARY}, floor(exp(random() * ln(${VOCABULARY})))::int)], ' ') as text
        from generate_series(1, ${WORDS_PER_STATUS}) k where g > 0
      ) w`;
  });
  console.error(`  statuses inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await sql`insert into favourites (account_id, status_id)
    select ${searcher.account.id}, id from statuses where visibility = 'public' order by random() limit 1000`;
  started = performance.now();
  await sql.unsafe(`set maintenance_work_mem = '256MB'`);
  await sql`create index statuses_search on statuses using gin (woolly_status_tsv(content, spoiler_text, language)) where deleted_at is null and reblog_of_id is null`;
  console.error(`  statuses_search index built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await sql`vacuum analyze statuses`;
  await sql`analyze`;
}
await seed();

const searcher = await findLocalAccount(sql, "bench_searcher");
const context = { sql, config } as unknown as AppContext;

async function timeQuery(q: string): Promise<{ ms: number; found: number }> {
  const t0 = performance.now();
  const result = await search(context, searcher, { q, type: "statuses", resolve: false, following: false, excludeUnreviewed: false, limit: 20, offset: 0 });
  return { ms: performance.now() - t0, found: result.statusIds.length };
}

const rand = random(7);
const someWord = () => WORDS[50 + Math.floor(rand() * (VOCABULARY - 50))]!;

function summary(name: string, runs: { ms: number; found: number }[]) {
  const times = runs.map((r) => r.ms);
  const withResults = runs.filter((r) => r.found > 0).length;
  console.log(`${name}: n=${runs.length}, median ${ms(quantile(times, 0.5))}, p99 ${ms(quantile(times, 0.99))}, max ${ms(Math.max(...times))}, ` +
    `${withResults}/${runs.length} with results (p99 / 100 ms = ${(quantile(times, 0.99) / 100).toFixed(2)})`);
}

const [sizes] = await sql<{ index: number; table: number; rows: number }[]>`
  select pg_relation_size('statuses_search')::float8 as index, pg_relation_size('statuses')::float8 as table, (select count(*) from statuses)::float8 as rows`;
console.log(`statuses: ${sizes!.rows.toLocaleString()} rows, table ${mb(sizes!.table)}, statuses_search (GIN) index ${mb(sizes!.index)}`);

// Warm-up: the first queries load the index pages into shared buffers.
for (let i = 0; i < 20; i++) await timeQuery(someWord());

const single: { ms: number; found: number }[] = [];
for (let i = 0; i < QUERIES; i++) single.push(await timeQuery(someWord()));
summary("single word", single);

const pairs: { ms: number; found: number }[] = [];
for (let i = 0; i < QUERIES; i++) pairs.push(await timeQuery(`${someWord()} ${someWord()}`));
summary("two words", pairs);

const common: { ms: number; found: number }[] = [];
for (let round = 0; round < 3; round++) for (const word of WORDS.slice(0, 10)) common.push(await timeQuery(word));
summary("the 10 most frequent words", common);

// ---- through HTTP: woolly web from source ----
const port = await freePort();
const token = (await issueToken(sql, { userId: searcher.user.id, applicationId: null, scopes: "read" })).token;
const server = Bun.spawn(["bun", "src/main.ts", "web", "--port", String(port)], { cwd: ROOT, env: ENV, stdout: "ignore", stderr: "inherit" });
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${base}/health`).catch(() => undefined))?.ok) break;
    if (i > 300) throw new Error("woolly web did not come up");
    await Bun.sleep(100);
  }
  const http: { ms: number; found: number }[] = [];
  for (let i = 0; i < HTTP; i++) {
    const q = i % 2 ? someWord() : `${someWord()} ${someWord()}`;
    const t0 = performance.now();
    const response = await fetch(`${base}/api/v2/search?type=statuses&limit=20&q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { statuses?: unknown[] };
    if (response.status !== 200) throw new Error(`GET /api/v2/search: ${response.status} ${JSON.stringify(body)}`);
    http.push({ ms: performance.now() - t0, found: body.statuses?.length ?? 0 });
  }
  summary("HTTP GET /api/v2/search (alternating one and two words, statuses rendered)", http);
} finally {
  server.kill();
  await server.exited;
  await sql.end();
}
