/** `woolly admin cache recount accounts|statuses` (tootctl cache recount): fix drifted counters from the rows. */
import { recount, type RecountTarget } from "../../features/maintenance/recount";
import { intFlag, UsageError, type Group } from "../command";
import { withDatabase } from "./database";

const TARGETS: RecountTarget[] = ["accounts", "statuses"];

export const cacheGroup: Group = {
  name: "cache",
  summary: "Derived data: recount denormalised counters",
  commands: [
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
