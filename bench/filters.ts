/**
 * Server-side filters on a timeline page: the cost `applyFilters` adds to every page (api/filtering.ts), which
 * runs on every timeline, notification and streamed status. Measures, per 40-status page:
 *   - a reader without filters (the common case): the cache check only;
 *   - a reader with 10 filters × 10 keywords (whole-word and not), no match on the page;
 *   - the same reader with ~1 in 4 statuses matching (warn, so they are copied and annotated);
 * and the Redis version read the web role does once per page (real Redis at REDIS_URL).
 *
 *   bun run bench:filters [-- --pages 2000]
 */
import { compileFilters, activeIn, matchStatus } from "../src/features/filters/match";
import type { FullFilter } from "../src/features/filters/store";
import { withFiltered } from "../src/api/filtering";
import type { StatusEntity } from "../src/api/entities/status";
import { createRedis } from "../src/infra/redis";
import { REDIS_URL } from "./lib";

const pages = Number(process.argv[process.argv.indexOf("--pages") + 1]) || 2000;
const WORDS = "the quick brown fox jumps over lazy dogs while a woolly sheep watches from the hill near the river bank".split(" ");

function status(i: number, match: boolean): StatusEntity {
  const words = Array.from({ length: 60 }, (_, j) => WORDS[(i * 7 + j) % WORDS.length]);
  if (match) words.splice(30, 0, "spoilerword");
  return {
    id: String(1000 + i),
    account: { id: "2" },
    content: `<p>${words.slice(0, 30).join(" ")}</p><p>${words.slice(30).join(" ")} <a href="https://example.com/x">https://example.com/x</a></p>`,
    spoiler_text: "",
    media_attachments: [{ description: "a photo of a field" }],
    poll: null,
    reblog: null,
    filtered: [],
  } as unknown as StatusEntity;
}

function filters(): FullFilter[] {
  return Array.from({ length: 10 }, (_, f) => ({
    id: String(f + 1),
    account_id: "1",
    title: `filter ${f}`,
    context: ["home", "public"],
    filter_action: "warn" as const,
    expires_at: null,
    created_at: new Date(),
    keywords: Array.from({ length: 10 }, (_, k) => ({ id: `${f}${k}`, filter_id: String(f + 1), keyword: f === 0 && k === 0 ? "spoilerword" : `kw${f}x${k}`, whole_word: k % 2 === 0 })),
    statuses: [],
  }));
}

function apply(active: ReturnType<typeof activeIn>, page: StatusEntity[]): number {
  let kept = 0;
  for (const s of page) {
    const matches = matchStatus(active, s, "1");
    if (matches.length === 0) kept++;
    else if (!matches.some((m) => m.filter.action === "hide")) {
      withFiltered(s, matches);
      kept++;
    }
  }
  return kept;
}

function measure(name: string, fn: () => void): { name: string; median: number; p99: number } {
  for (let i = 0; i < 200; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < pages; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

const compiled = compileFilters(filters());
const none = compileFilters([]);
const plainPage = Array.from({ length: 40 }, (_, i) => status(i, false));
const matchingPage = Array.from({ length: 40 }, (_, i) => status(i, i % 4 === 0));

const results = [
  measure("no filters (cache hit, nothing active)", () => apply(activeIn(none, "home"), plainPage)),
  measure("10 filters × 10 keywords, no match", () => apply(activeIn(compiled, "home"), plainPage)),
  measure("10 filters × 10 keywords, 10 of 40 match (warn)", () => apply(activeIn(compiled, "home"), matchingPage)),
];

const redis = createRedis({ url: REDIS_URL, namespace: "bench" } as never, "bullmq", "bench-filters");
const key = "bench:woolly:filters:version:1";
await redis.set(key, "3");
results.push(
  await (async () => {
    for (let i = 0; i < 200; i++) await redis.get(key);
    const times: number[] = [];
    for (let i = 0; i < pages; i++) {
      const t = performance.now();
      await redis.get(key);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { name: "Redis version read (once per page)", median: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
  })(),
);
await redis.del(key);
redis.disconnect();

console.log(`pages: ${pages}, 40 statuses each`);
for (const r of results) console.log(`${r.name.padEnd(52)} median ${r.median.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms`);
