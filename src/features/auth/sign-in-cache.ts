/**
 * Sign-ins remembered for a second: what a Bearer token resolved to (api/caller.ts keeps its Caller here).
 */
import type { Sql } from "../../infra/db";

/**
 * Every API request names its token; looking it (and its account) up is two queries and a write, more than
 * rendering a cached timeline page costs. So what a token resolves to is remembered in-process for at most
 * AUTH_CACHE_TTL_MS, keyed by the token's hash. It cannot outlive a change for long, and usually not at all:
 * - in this process, revoking tokens, changing or deleting a user (auth/store.ts, accounts/store.ts call
 *   forgetSignIns) and any write request through the API empty the cache at once;
 * - every other change that matters (a token revoked or rescoped, a user changed, disabled or deleted, an
 *   account suspended or its profile edited — by any process: the CLI, a worker, another web role) fires a
 *   Postgres NOTIFY (migrations/0017_perf.sql) on which every listening process empties its cache;
 * - and whatever else, an entry is dropped after AUTH_CACHE_TTL_MS.
 */
export const AUTH_CACHE_TTL_MS = 1000;
const AUTH_CACHE_MAX = 10_000;

class AuthCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, now = Date.now()): void {
    if (this.entries.size >= AUTH_CACHE_MAX) this.entries.clear();
    this.entries.set(key, { value, expires: now + AUTH_CACHE_TTL_MS });
  }

  clear(): void {
    this.entries.clear();
  }
}

/** What the API edge keeps per token (its Caller); opaque here. */
export const authCache = new AuthCache<unknown>();

/** Something a cached sign-in depends on changed in this process: forget them all (they refill cheaply). */
export function forgetSignIns(): void {
  authCache.clear();
}

/** Pools with a listener started (value: when), and those whose listener is up. */
const listening = new WeakMap<object, number>();
const listenerUp = new WeakSet<object>();
const RETRY_LISTEN_MS = 30_000;

/**
 * Listen (once per pool) for the NOTIFY that says a cached sign-in may be wrong. Until the listener is up,
 * callers must not use the cache: the answer is false and they look up the token as before. A listener that
 * could not start is tried again after RETRY_LISTEN_MS, not on every request. (Behind pgbouncer in
 * transaction mode notifications do not arrive; the TTL still bounds every entry.)
 */
export function authCacheReady(sql: Sql): boolean {
  if (listenerUp.has(sql)) return true;
  const started = listening.get(sql);
  if (started !== undefined && Date.now() - started < RETRY_LISTEN_MS) return false;
  listening.set(sql, Date.now());
  sql
    .listen("woolly_auth", forgetSignIns, () => {
      // Also on every reconnect: changes made while the listener was down were not heard.
      forgetSignIns();
      listenerUp.add(sql);
    })
    .catch(() => {});
  return false;
}

