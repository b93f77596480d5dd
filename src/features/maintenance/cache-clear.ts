/**
 * `woolly admin cache clear` (tootctl cache clear): drop what Redis holds only to save work, never what
 * correctness needs. Each entry below is refetched or recomputed on demand:
 *   - fed:key-owner:*       which actor owns a remote signing key (re-derived on the next signature check);
 *   - woolly:cards:failed:* link-preview fetches that failed recently (tried again on the next post);
 *   - media:proxy:failed:*  remote media that failed to download recently (tried again on the next view).
 * Left alone on purpose: home feeds (`feeds clear`), queues, rate limits and relay throttles, idempotency
 * keys, processed-activity and deleted-before-created marks, event done-marks — clearing those would
 * re-run or lose work. In-process caches (rendered statuses, sign-ins, filters) are per process and are
 * versioned or invalidated by Postgres NOTIFY, so nothing needs clearing there.
 */
import type { Redis } from "../../infra/redis";

export const CLEARABLE_CACHES = ["fed:key-owner:*", "woolly:cards:failed:*", "media:proxy:failed:*"] as const;

export async function clearCaches(redis: Redis, namespace: string): Promise<Record<string, number>> {
  const prefix = namespace ? `${namespace}:` : "";
  const removed: Record<string, number> = {};
  for (const pattern of CLEARABLE_CACHES) {
    let count = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}${pattern}`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) count += await redis.unlink(...keys);
    } while (cursor !== "0");
    removed[pattern] = count;
  }
  return removed;
}
