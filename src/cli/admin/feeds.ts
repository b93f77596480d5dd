/** `woolly admin feeds …`: rebuild home feeds from Postgres, or drop them all (tootctl feeds build / clear). */
import { findLocalAccount } from "../../features/accounts/service";
import { clearFeeds, rebuildFeeds } from "../../features/timelines/service";
import { CliError, UsageError, type Group } from "../command";
import { openRedis, readConfig } from "../boot";
import { withDatabase } from "./database";

/** Postgres (through withDatabase, which checks migrations) and an app Redis connection, closed after. */
async function withFeeds<T>(fn: (context: Parameters<typeof rebuildFeeds>[0]) => Promise<T>): Promise<T> {
  return withDatabase(async (sql, config) => {
    const redis = await openRedis(config, "app", "woolly-admin");
    try {
      return await fn({ sql, redis, config });
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  });
}

export const feedsGroup: Group = {
  name: "feeds",
  summary: "Home feeds in Redis: rebuild from Postgres, or clear",
  commands: [
    {
      name: "build",
      summary: "Rebuild the home feed of one local account, or of all of them, from Postgres",
      synopsis: "NAME | --all",
      options: { all: { type: "boolean" } },
      optionHelp: { all: "every local account" },
      positionals: { min: 0, max: 1 },
      async run({ values, positionals }) {
        const all = values.all === true;
        if (all === (positionals.length === 1)) throw new UsageError("give either an account NAME or --all", "");
        const count = await withFeeds(async (context) => {
          if (all) return rebuildFeeds(context, "all");
          const account = await findLocalAccount(context.sql, positionals[0]!);
          return rebuildFeeds(context, [account.id]);
        });
        console.log(all ? `Rebuilt ${count} home feed(s)` : `Rebuilt the home feed of @${positionals[0]!.replace(/^@/, "")}`);
        return 0;
      },
    },
    {
      name: "clear",
      summary: "Drop every home feed from Redis (each is rebuilt on its owner's next read)",
      async run() {
        const config = readConfig("admin");
        const redis = await openRedis(config, "app", "woolly-admin");
        try {
          const removed = await clearFeeds({ redis, config });
          console.log(`Removed ${removed} feed key(s)`);
          return 0;
        } catch (error) {
          throw new CliError(`could not clear feeds: ${(error as Error).message}`);
        } finally {
          await redis.quit().catch(() => redis.disconnect());
        }
      },
    },
  ],
};
