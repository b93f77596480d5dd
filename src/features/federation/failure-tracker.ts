/**
 * Mastodon's DeliveryFailureTracker: a server whose inbox keeps failing is marked unavailable after failures
 * on FAILURE_DAYS distinct days, and deliveries to it are then skipped (not queued, not retried) so a dead
 * instance cannot clog the push queue. One success clears the record; an activity the server sends us does
 * too (the inbox calls markAvailable).
 *
 * The failing days live in Redis (a set of YYYYMMDD per host, kept a little longer than a retry cycle);
 * the verdict lives in Postgres (unavailable_domains, migration 0013), so it survives a Redis loss and the
 * operator can see it. Each process keeps the unavailable set for a few seconds: the check happens once per
 * inbox per fan-out, and a thousand inboxes must not cost a thousand queries.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { recordDeliveryFailure } from "../../infra/metrics";

export const FAILURE_DAYS = 7;
/** Longer than the 16 retries (about two days) plus the 7 days to count: a week and a half. */
const DAYS_TTL_SECONDS = 11 * 24 * 3600;
const LOCAL_CACHE_MS = 5_000;

function daysKey(context: Pick<AppContext, "config">, host: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}fed:delivery-failures:${host}`;
}

/** The tracked unit is the inbox's host (with its port: two test peers on one address are two servers). */
export function hostOf(inbox: string): string {
  return new URL(inbox).host.toLowerCase();
}

function today(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll("-", "");
}

let cache: { sql: Db; at: number; hosts: Promise<Set<string>> } | undefined;

async function loadUnavailable(sql: Db): Promise<Set<string>> {
  const rows = await sql<{ domain: string }[]>`select domain from unavailable_domains`;
  return new Set(rows.map((r) => r.domain));
}

function forgetCache(): void {
  cache = undefined;
}

/** The hosts deliveries currently skip (cached per process for a few seconds). */
export function unavailableHosts(sql: Db): Promise<Set<string>> {
  const now = Date.now();
  if (!cache || cache.sql !== sql || now - cache.at > LOCAL_CACHE_MS) {
    const hosts = loadUnavailable(sql);
    cache = { sql, at: now, hosts };
    hosts.catch(() => forgetCache());
  }
  return cache.hosts;
}

export async function isAvailable(context: Pick<AppContext, "sql">, inbox: string): Promise<boolean> {
  return !(await unavailableHosts(context.sql)).has(hostOf(inbox));
}

/** Keep only the inboxes whose servers are not marked unavailable. */
export async function availableInboxes(context: Pick<AppContext, "sql">, inboxes: string[]): Promise<string[]> {
  const unavailable = await unavailableHosts(context.sql);
  if (unavailable.size === 0) return inboxes;
  return inboxes.filter((inbox) => !unavailable.has(hostOf(inbox)));
}

/**
 * Of these hosts, the ones with a failure on record (not yet marked unavailable): a fan-out queues their
 * deliveries behind the healthy ones, so a server that hangs cannot hold every worker slot while the
 * healthy servers wait. One pipelined round trip for the whole list.
 */
export async function failingHosts(context: Pick<AppContext, "redis" | "config">, hosts: string[]): Promise<Set<string>> {
  const unique = [...new Set(hosts)];
  if (unique.length === 0) return new Set();
  const pipeline = context.redis.pipeline();
  for (const host of unique) pipeline.exists(daysKey(context, host));
  const answers = (await pipeline.exec()) ?? [];
  return new Set(unique.filter((_, i) => answers[i]?.[1] === 1));
}

/** A delivery failed for good on this attempt: count the day; the seventh distinct day marks the host. */
export async function trackFailure(context: Pick<AppContext, "sql" | "redis" | "config">, inbox: string, now = new Date()): Promise<boolean> {
  const host = hostOf(inbox);
  recordDeliveryFailure(host);
  const key = daysKey(context, host);
  const [, , [, days]] = (await context.redis.multi().sadd(key, today(now)).expire(key, DAYS_TTL_SECONDS).scard(key).exec()) as [unknown, unknown, [unknown, number]];
  if (days >= FAILURE_DAYS) {
    await context.sql`insert into unavailable_domains (domain) values (${host}) on conflict (domain) do nothing`;
    forgetCache();
    return true;
  }
  return false;
}

/** The host answered: forget its failures, and make it available again. */
export async function trackSuccess(context: Pick<AppContext, "sql" | "redis" | "config">, inbox: string): Promise<void> {
  const host = hostOf(inbox);
  // The common case (a healthy server) costs one Redis DEL; the table is touched only for a marked host.
  if ((await unavailableHosts(context.sql)).has(host)) await markAvailable(context, host);
  else await context.redis.del(daysKey(context, host));
}

export async function markAvailable(context: Pick<AppContext, "sql" | "redis" | "config">, host: string): Promise<void> {
  const lower = host.toLowerCase();
  await context.redis.del(daysKey(context, lower));
  const removed = await context.sql`delete from unavailable_domains where domain = ${lower} returning domain`;
  if (removed.length > 0) forgetCache();
}

/** How many distinct failing days a host has now (for the operator and tests). */
export async function failureDays(context: Pick<AppContext, "redis" | "config">, host: string): Promise<number> {
  return context.redis.scard(daysKey(context, host.toLowerCase()));
}
