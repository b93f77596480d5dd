/**
 * Home feeds in Redis, one per local account, as Mastodon keeps them (FeedManager).
 *
 * Layout: `<ns:>woolly:feed:home:<accountId>` is a sorted set whose members are status ids zero-padded to
 * 19 digits, ALL WITH SCORE 0. Why not the id as the score: scores are doubles, and a 64-bit id
 * (ms << 16 | seq) does not fit in 53 bits, so two posts of the same millisecond could tie or swap, and a
 * max_id cursor could skip or repeat one. With equal scores Redis orders members lexicographically, and
 * zero-padded decimal strings sort exactly like the numbers, so ZREVRANGEBYLEX gives exact cursors and ranks.
 *
 * Markers: members that start with "!" sort before every digit, so they never show up in a page (pages read
 * from "[0"); "!built" says the feed is complete, "!building" says a rebuild is filling it. Fan-out writes only
 * into feeds that exist (either marker), so a missing feed is always rebuilt from Postgres, never trusted half.
 *
 * `<feed>:reblogs` is a hash original id → the boost of it that is in the feed (Mastodon's reblog
 * side-set), used to collapse boosts: a boost is not added when its original or another boost of it is among
 * the newest FALLOFF items; an original that arrives after a boost of it (late delivery) is not added either.
 *
 * Trim: at most MAX_ITEMS ids per feed (the oldest fall off), checked on every insert.
 */
import type { Redis } from "../../infra/redis";

export const MAX_ITEMS = 800;
/**
 * A feed nobody reads expires (Mastodon stops maintaining the home feeds of users inactive for two weeks
 * and regenerates them when they come back). Every read, and every rebuild, sets the feed's time to live to
 * this; fan-out writes only into feeds that exist, so an inactive account's feed costs nothing once gone,
 * and its next read rebuilds it from Postgres.
 */
export const FEED_TTL_SECONDS = 14 * 24 * 3600;
export const REBLOG_FALLOFF = 40;
const BUILT = "!built";
const BUILDING = "!building";

export function feedKey(namespace: string, accountId: string): string {
  return `${namespace ? `${namespace}:` : ""}woolly:feed:home:${accountId}`;
}

/** The pattern that matches every home feed key (and its side keys) of this namespace. */
export function feedKeyPattern(namespace: string): string {
  const literal = namespace.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  return `${literal ? `${literal}:` : ""}woolly:feed:home:*`;
}

export const pad = (id: string) => id.padStart(19, "0");
const unpad = (member: string) => member.replace(/^0+(?=\d)/, "");

/** One item to put into (or take out of) a feed: a status, and the original when it is a boost. */
export interface FeedItem {
  id: string;
  reblogOfId: string | null;
}

// KEYS: pairs of (feed, reblogs). ARGV: max, falloff, "1" = only into existing feeds, then pairs of (id, original
// or "" unless a boost), added in that order to each feed. One call serves a batch of feeds (fan-out) or a
// batch of items (rebuild): far fewer round trips and script invocations than one call per insert.
// Returns how many inserts happened.
const ADD = `
local max, falloff, onlyExisting = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local added = 0
local function add(feed, reblogs, id, orig)
  if redis.call('ZSCORE', feed, id) then return end
  if orig ~= '' then
    local rank = redis.call('ZREVRANK', feed, orig)
    if rank and rank < falloff then return end
    local other = redis.call('HGET', reblogs, orig)
    if other then
      local otherRank = redis.call('ZREVRANK', feed, other)
      if otherRank and otherRank < falloff then return end
    end
    redis.call('HSET', reblogs, orig, id)
    -- the side-set lives exactly as long as its feed (see FEED_TTL_SECONDS)
    local ttl = redis.call('PTTL', feed)
    if ttl > 0 then redis.call('PEXPIRE', reblogs, ttl) end
  else
    local boost = redis.call('HGET', reblogs, id)
    if boost and redis.call('ZSCORE', feed, boost) then return end
  end
  redis.call('ZADD', feed, 0, id)
  added = added + 1
  -- at most two markers ("!built", "!building"): only count them when the feed may be over the cap
  local size = redis.call('ZCARD', feed)
  if size > max then
    local markers = redis.call('ZLEXCOUNT', feed, '-', '(0')
    local real = size - markers
    if real > max then
      redis.call('ZREMRANGEBYRANK', feed, markers, markers + real - max - 1)
      if redis.call('HLEN', reblogs) > max then
        local all = redis.call('HGETALL', reblogs)
        for i = 1, #all, 2 do
          if not redis.call('ZSCORE', feed, all[i + 1]) then redis.call('HDEL', reblogs, all[i]) end
        end
      end
    end
  end
end
for k = 1, #KEYS, 2 do
  if not onlyExisting or redis.call('EXISTS', KEYS[k]) == 1 then
    for i = 4, #ARGV, 2 do add(KEYS[k], KEYS[k + 1], ARGV[i], ARGV[i + 1]) end
  end
end
return added
`;

// KEYS: feed, reblogs. ARGV: pairs of (id, original or ""). Never creates a key.
const REMOVE = `
for i = 1, #ARGV, 2 do
  local id, orig = ARGV[i], ARGV[i + 1]
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  if orig ~= '' and redis.call('HGET', KEYS[2], orig) == id then redis.call('HDEL', KEYS[2], orig) end
end
return 1
`;

// KEYS: feed, reblogs. ARGV: ttl, "rev" (newest first, from ARGV[3] down to ARGV[4]) or "fwd" (oldest first,
// from ARGV[4] up to ARGV[3]), upper bound, lower bound, limit. Returns { built (0/1), members }. Reading keeps
// the feed alive; on a feed that does not exist EXPIRE does nothing. One command rather than a pipeline of
// four: every home request makes this read, and each command costs the client its encoding and reply parsing.
const READ = `
local built = redis.call('ZSCORE', KEYS[1], '!built') and 1 or 0
local members
if ARGV[2] == 'fwd' then
  members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[4], ARGV[3], 'LIMIT', 0, ARGV[5])
else
  members = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', 0, ARGV[5])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return { built, members }
`;

type FeedRedis = Redis & {
  woollyFeedAdd(numberOfKeys: number, ...args: (string | number)[]): Promise<number>;
  woollyFeedRemove(feed: string, reblogs: string, ...args: string[]): Promise<number>;
  woollyFeedRead(feed: string, reblogs: string, ...args: (string | number)[]): Promise<[number, string[]]>;
};

/** ioredis sends defined scripts by EVALSHA and loads them again on NOSCRIPT (after a Redis restart). */
function scripts(redis: Redis): FeedRedis {
  if (!("woollyFeedAdd" in redis)) {
    // numberOfKeys is given per call (the first argument): the ADD script takes any number of feeds.
    redis.defineCommand("woollyFeedAdd", { lua: ADD });
    redis.defineCommand("woollyFeedRemove", { numberOfKeys: 2, lua: REMOVE });
    redis.defineCommand("woollyFeedRead", { numberOfKeys: 2, lua: READ });
  }
  return redis as FeedRedis;
}

/**
 * Fan-out batches: one script call per this many feeds. Small, because Redis runs one script at a time: any
 * other command (a home page read, a job being queued by a POST) waits behind the batch being run — ~1–2 ms
 * for 100 feeds, ~5 ms for 500 (bench/timelines.ts's 10,000-follower poster, docs/benchmarks.md).
 */
const BATCH = 100;

const itemArgs = (items: FeedItem[]) => items.flatMap((item) => [pad(item.id), item.reblogOfId ? pad(item.reblogOfId) : ""]);
const keyPair = (namespace: string, accountId: string) => {
  const key = feedKey(namespace, accountId);
  return [key, `${key}:reblogs`];
};

async function run(pipeline: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<number> {
  let added = 0;
  for (const [error, result] of (await pipeline.exec()) ?? []) {
    if (error) throw error;
    added += Number(result);
  }
  return added;
}

/**
 * Add `item` to the feeds of `accountIds`. With onlyExisting, feeds that are not in Redis are left alone
 * (they are rebuilt from Postgres when next read). Returns how many feeds took it.
 */
export async function addToFeeds(redis: Redis, namespace: string, accountIds: string[], item: FeedItem, onlyExisting = true): Promise<number> {
  if (accountIds.length === 0) return 0;
  const feedRedis = scripts(redis);
  const args = itemArgs([item]);
  let added = 0;
  // One batch at a time, not all in one pipeline: Redis runs the scripts one after the other anyway, and
  // building and encoding 10,000 feeds' keys in one go would hold the event loop that, in `woolly all`,
  // also answers HTTP requests (a post by a popular account made every request wait ~10–20 ms).
  for (let i = 0; i < accountIds.length; i += BATCH) {
    const keys = accountIds.slice(i, i + BATCH).flatMap((id) => keyPair(namespace, id));
    added += Number(await feedRedis.woollyFeedAdd(keys.length, ...keys, MAX_ITEMS, REBLOG_FALLOFF, onlyExisting ? "1" : "0", ...args));
  }
  return added;
}

/** Add many items (oldest first) to one feed: the rebuild and the merge after a follow. */
export async function addManyToFeed(redis: Redis, namespace: string, accountId: string, items: FeedItem[], onlyExisting: boolean): Promise<void> {
  if (items.length === 0) return;
  const pipeline = scripts(redis).pipeline() as unknown as FeedRedis & { exec(): Promise<[Error | null, unknown][] | null> };
  const keys = keyPair(namespace, accountId);
  for (let i = 0; i < items.length; i += BATCH) {
    pipeline.woollyFeedAdd(2, ...keys, MAX_ITEMS, REBLOG_FALLOFF, onlyExisting ? "1" : "0", ...itemArgs(items.slice(i, i + BATCH)));
  }
  await run(pipeline);
}

/** Take `items` out of the feeds of `accountIds`. */
export async function removeFromFeeds(redis: Redis, namespace: string, accountIds: string[], items: FeedItem[]): Promise<void> {
  if (items.length === 0 || accountIds.length === 0) return;
  const pipeline = scripts(redis).pipeline() as unknown as FeedRedis & { exec(): Promise<[Error | null, unknown][] | null> };
  const args = itemArgs(items);
  for (const accountId of accountIds) pipeline.woollyFeedRemove(...(keyPair(namespace, accountId) as [string, string]), ...args);
  await run(pipeline);
}

/** Every status id in a feed, newest first (at most MAX_ITEMS). */
export async function feedIds(redis: Redis, namespace: string, accountId: string): Promise<string[]> {
  const members = await redis.zrevrangebylex(feedKey(namespace, accountId), "+", "[0");
  return members.map(unpad);
}

export interface FeedPage {
  maxId?: string;
  sinceId?: string;
  minId?: string;
  limit: number;
}

/**
 * One page of a feed, newest first, and whether the feed is built: one script call (READ), which also renews
 * the feed's time to live. When the feed is not built the caller rebuilds and reads again.
 */
export async function readFeedPage(redis: Redis, namespace: string, accountId: string, page: FeedPage): Promise<{ built: boolean; ids: string[] }> {
  const key = feedKey(namespace, accountId);
  const upper = page.maxId ? `(${pad(page.maxId)}` : "+";
  // min_id: immediately newer than it, so read upwards, then show newest first.
  const [built, members] = page.minId
    ? await scripts(redis).woollyFeedRead(key, `${key}:reblogs`, FEED_TTL_SECONDS, "fwd", upper, `(${pad(page.minId)}`, page.limit)
    : await scripts(redis).woollyFeedRead(key, `${key}:reblogs`, FEED_TTL_SECONDS, "rev", upper, page.sinceId ? `(${pad(page.sinceId)}` : "[0", page.limit);
  const ids = members.map(unpad);
  return { built: built === 1, ids: page.minId ? ids.reverse() : ids };
}

/**
 * A rebuild in three steps so no post is lost to a race with fan-out: mark the feed "!building" (from now on
 * fan-out writes into it), then the caller reads Postgres and adds what it found, then mark it "!built".
 */
export async function beginBuild(redis: Redis, namespace: string, accountId: string, fresh: boolean): Promise<void> {
  const key = feedKey(namespace, accountId);
  const multi = redis.multi();
  if (fresh) multi.del(key, `${key}:reblogs`);
  multi.zadd(key, 0, BUILDING);
  await multi.exec();
}

export async function finishBuild(redis: Redis, namespace: string, accountId: string): Promise<void> {
  const key = feedKey(namespace, accountId);
  await redis.multi().zadd(key, 0, BUILT).zrem(key, BUILDING).expire(key, FEED_TTL_SECONDS).expire(`${key}:reblogs`, FEED_TTL_SECONDS).exec();
}

/** Drop every home feed of this namespace (SCAN, never KEYS or FLUSHDB: other data shares this Redis). */
export async function clearAllFeeds(redis: Redis, namespace: string): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", feedKeyPattern(namespace), "COUNT", 1000);
    cursor = next;
    if (keys.length) removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}

export async function clearFeed(redis: Redis, namespace: string, accountId: string): Promise<void> {
  const key = feedKey(namespace, accountId);
  await redis.unlink(key, `${key}:reblogs`);
}
