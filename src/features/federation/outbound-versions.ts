/**
 * A version number per local account (keyed by lower-cased username, which is what a URL names) for what its public ActivityPub and HTML faces show (statuses, outbox,
 * featured, profile). The object routes put it in their render-cache keys; delivery bumps it when a post is
 * edited or deleted or the profile changes, so every web process drops the stale render within a second
 * instead of serving it for the cache's full minute. The number lives in Redis (shared by all processes);
 * each process remembers what it read for one second, so a burst of fetches costs one Redis read.
 */
import type { AppContext } from "../../infra/context";

const MEMO_MS = 1000;
const memo = new Map<string, { at: number; value: Promise<string> }>();

function key(context: Pick<AppContext, "config">, username: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}ap:object-version:${username.toLowerCase()}`;
}

/** Bumped with every object version this process changes: answers remembered before it are stale. */
let generation = 0;

export function objectVersionGeneration(): number {
  return generation;
}

export async function bumpObjectVersion(context: Pick<AppContext, "redis" | "config">, username: string): Promise<void> {
  await context.redis.incr(key(context, username));
  memo.delete(username.toLowerCase());
  generation++;
}

export function objectVersion(context: Pick<AppContext, "redis" | "config">, username: string): Promise<string> {
  // A name that cannot be a username names nothing: no Redis key, no memo entry for garbage from a URL.
  if (!/^[A-Za-z0-9_]{1,64}$/.test(username)) return Promise.resolve("0");
  const now = Date.now();
  const hit = memo.get(username.toLowerCase());
  if (hit && now - hit.at < MEMO_MS) return hit.value;
  // Redis down: serve what we have under version 0 rather than failing the fetch (the cache TTL still holds).
  const value = context.redis.get(key(context, username)).then((v) => v ?? "0", () => "0");
  memo.set(username.toLowerCase(), { at: now, value });
  if (memo.size > 10_000) memo.delete(memo.keys().next().value!);
  return value;
}
