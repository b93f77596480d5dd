/** The versioned, bounded, aging in-process cache behind rendered statuses and their authors. */
import { expect, test } from "bun:test";
import { RenderCache } from "../../src/features/statuses/render-cache";

test("an entry is used only under the version it was stored with", () => {
  const cache = new RenderCache<string>(10);
  cache.set("1", "v1", "one");
  expect(cache.get("1", "v1")).toBe("one");
  expect(cache.get("1", "v2")).toBeUndefined();
  cache.set("1", "v2", "one again");
  expect(cache.get("1", "v1")).toBeUndefined();
  expect(cache.get("1", "v2")).toBe("one again");
  expect(cache.hits).toBe(2);
  expect(cache.misses).toBe(2);
});

test("bounded: the least recently used go first", () => {
  const cache = new RenderCache<number>(10);
  for (let i = 0; i < 10; i++) cache.set(String(i), "v", i);
  expect(cache.get("0", "v")).toBe(0); // 0 is now the most recently used
  cache.set("10", "v", 10); // over the bound: the oldest tenth (one entry, "1") goes
  expect(cache.size).toBe(10);
  expect(cache.get("1", "v")).toBeUndefined();
  expect(cache.get("0", "v")).toBe(0);
  expect(cache.get("10", "v")).toBe(10);
});

test("no entry outlives its maximum age", () => {
  const cache = new RenderCache<string>(10, 1000);
  cache.set("1", "v", "one", 0);
  expect(cache.get("1", "v", 999)).toBe("one");
  expect(cache.get("1", "v", 1000)).toBeUndefined();
});
