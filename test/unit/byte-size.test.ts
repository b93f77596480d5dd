import { expect, test } from "bun:test";
import { ConfigError, loadConfig, parseByteSize } from "../../src/infra/config";

test("MEDIA_CACHE_MAX_SIZE sizes: bytes, K/M/G/T as powers of 1024, B and i optional, case-insensitive", () => {
  expect(parseByteSize("123456")).toBe(123456);
  expect(parseByteSize("10GB")).toBe(10 * 1024 ** 3);
  expect(parseByteSize("500mb")).toBe(500 * 1024 ** 2);
  expect(parseByteSize("1.5 GiB")).toBe(1.5 * 1024 ** 3);
  expect(parseByteSize("2T")).toBe(2 * 1024 ** 4);
  expect(parseByteSize("0")).toBe(0);
  for (const bad of ["", "GB", "-5GB", "5 PB", "1e9", "10 G B", "9".repeat(30)]) expect(parseByteSize(bad)).toBeUndefined();
});

test("the media cache settings load with their defaults and refuse nonsense naming the variable", () => {
  const base = { LOCAL_DOMAIN: "example.com", SECRET_KEY_BASE: "x".repeat(64) };
  expect(loadConfig(base).mediaCache).toEqual({ retentionDays: 0, maxBytes: 5 * 1024 ** 3, fetchTimeoutMs: 60_000 });
  expect(loadConfig({ ...base, MEDIA_CACHE_MAX_SIZE: "250MB", MEDIA_CACHE_RETENTION_PERIOD: "14", MEDIA_FETCH_TIMEOUT: "5" }).mediaCache).toEqual({
    retentionDays: 14,
    maxBytes: 250 * 1024 ** 2,
    fetchTimeoutMs: 5000,
  });
  expect(() => loadConfig({ ...base, MEDIA_CACHE_MAX_SIZE: "lots" })).toThrow(ConfigError);
  expect(() => loadConfig({ ...base, MEDIA_CACHE_MAX_SIZE: "lots" })).toThrow(/MEDIA_CACHE_MAX_SIZE/);
  expect(() => loadConfig({ ...base, MEDIA_FETCH_TIMEOUT: "0" })).toThrow(/MEDIA_FETCH_TIMEOUT/);
});
