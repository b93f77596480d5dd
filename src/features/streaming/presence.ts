/**
 * Who is listening: the accounts with a `user` (home) or `direct` stream open on some streaming process, so
 * a post by an account with 10,000 followers publishes to the few followers connected, not to 10,000 empty
 * channels. One Redis sorted set per namespace: member = account id, score = when the record expires (ms).
 *
 * Each streaming process adds an account when its home or direct channel is first subscribed there (before
 * the subscription can receive anything, so a stream opened mid-way gets the next post) and refreshes all
 * of its accounts on a timer. Nobody removes members on disconnect — another process may still hold the
 * account — so a record outlives its stream by at most the TTL: a few needless publishes, never a missed one.
 * A process that dies stops refreshing, and its accounts expire. Publishers treat a failed read as "everyone
 * is online" (publishing to all is correct, only costly).
 */
import type { Redis } from "../../infra/redis";

/** How long a record lives without a refresh; streaming processes refresh every PRESENCE_REFRESH_MS. */
export const PRESENCE_TTL_MS = 90_000;
export const PRESENCE_REFRESH_MS = 30_000;
/** Members per ZADD / ZMSCORE command: bounded argument lists for a 10,000-follower account. */
const CHUNK = 1000;

export function presenceKey(namespace: string): string {
  return `${namespace ? `${namespace}:` : ""}streaming:presence`;
}

/** Record (or refresh) these accounts as connected until now + ttlMs. */
export async function markOnline(redis: Redis, namespace: string, accountIds: Iterable<string>, ttlMs = PRESENCE_TTL_MS): Promise<void> {
  const ids = [...accountIds];
  if (ids.length === 0) return;
  const key = presenceKey(namespace);
  const expires = Date.now() + ttlMs;
  const pipeline = redis.pipeline();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const args: (string | number)[] = [];
    for (const id of ids.slice(i, i + CHUNK)) args.push(expires, id);
    // GT: a shorter TTL from another process never shortens a record.
    pipeline.zadd(key, "GT", ...args);
  }
  // Expired members are dropped here too, so the set stays as small as the connected population.
  pipeline.zremrangebyscore(key, "-inf", Date.now());
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (failed) throw failed[0];
}

/** Of `accountIds`, those with an unexpired record, in the given order. */
export async function onlineAmong(redis: Redis, namespace: string, accountIds: string[]): Promise<string[]> {
  if (accountIds.length === 0) return [];
  const key = presenceKey(namespace);
  const now = Date.now();
  const pipeline = redis.pipeline();
  for (let i = 0; i < accountIds.length; i += CHUNK) pipeline.zmscore(key, ...accountIds.slice(i, i + CHUNK));
  const results = (await pipeline.exec()) ?? [];
  const online: string[] = [];
  results.forEach(([error, scores], chunk) => {
    if (error) throw error;
    (scores as (string | null)[]).forEach((score, j) => {
      if (score !== null && Number(score) > now) online.push(accountIds[chunk * CHUNK + j]!);
    });
  });
  return online;
}

/**
 * Everyone listening, when they are few: at most `max` account ids, or null when more are online (then the
 * caller asks about its recipients instead). A publisher with 10,000 followers and 10 people connected reads
 * 10 ids here and asks Postgres only about those, instead of listing 10,000 followers and filtering them.
 */
export async function onlineAccounts(redis: Redis, namespace: string, max: number): Promise<string[] | null> {
  const ids = await redis.zrangebyscore(presenceKey(namespace), `(${Date.now()}`, "+inf", "LIMIT", 0, max + 1);
  return ids.length > max ? null : ids;
}
