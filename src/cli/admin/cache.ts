/**
 * `woolly admin cache recount accounts|statuses` (tootctl cache recount): fix drifted counters from the rows;
 * `woolly admin cache clear` (tootctl cache clear): drop Redis caches that only save work.
 */
import { clearCaches } from "../../features/maintenance/cache-clear";
import { recount, type RecountTarget } from "../../features/maintenance/recount";
import { intFlag, UsageError, type Group } from "../command";
import { openRedis } from "../boot";
import { withDatabase } from "./database";

const TARGETS: RecountTarget[] = ["accounts", "statuses"];

export const cacheGroup: Group = {
  name: "cache",
  summary: "Derived data: recount denormalised counters, clear caches",
  commands: [
    {
      name: "clear",
      summary: "Drop Redis caches that only save work (remote key owners, failed link-card and media fetches); feeds, queues and marks are kept",
      synopsis: "",
      options: {},
      optionHelp: {},
      positionals: { min: 0, max: 0 },
      async run() {
        const removed = await withDatabase(async (_sql, config) => {
          const redis = await openRedis(config, "app", "woolly-admin");
          try {
            return await clearCaches(redis, config.redis.namespace);
          } finally {
            await redis.quit().catch(() => redis.disconnect());
          }
        });
        for (const [pattern, count] of Object.entries(removed)) console.log(`${pattern}: ${count} removed`);
        return 0;
      },
    },
    {
      name: "recount",
      summary: "Recompute accounts' followers/following/statuses counts or statuses' replies/reblogs/favourites counts from the rows, in batches",
      synopsis: "accounts|statuses [--batch-size N]",
      options: { "batch-size": { type: "string" } },
      optionHelp: { "batch-size": "rows per UPDATE (1-10000, default 1000)" },
      positionals: { min: 1, max: 1 },
      async run({ values, positionals }) {
        const target = positionals[0] as RecountTarget;
        if (!TARGETS.includes(target)) throw new UsageError(`the target must be one of ${TARGETS.join(", ")}`, "");
        const batchSize = intFlag(values["batch-size"], "batch-size", 1, 10_000);
        const result = await withDatabase((sql) => recount(sql, target, { batchSize }));
        console.log(`Recounted ${result.scanned} ${target}: ${result.changed} changed`);
        return 0;
      },
    },
  ],
};
