/**
 * `woolly admin statuses remove [--days N] [--dry-run]` (tootctl statuses remove): remove cached remote
 * statuses older than N days that nobody here interacted with — the selection content retention uses.
 * Without --days the instance setting `content_cache_retention_period` applies; with neither, nothing runs.
 */
import { contentRetentionDays, previewRemoval, removeOldRemoteStatuses } from "../../features/retention/service";
import { QueueClient, bullPrefix } from "../../infra/queues/client";
import { intFlag, UsageError, type Group } from "../command";
import { openRedis } from "../boot";
import { withDatabase } from "./database";

export const statusesGroup: Group = {
  name: "statuses",
  summary: "Cached remote statuses: remove the old ones nobody here interacted with",
  commands: [
    {
      name: "remove",
      summary: "Remove remote statuses older than N days with no local favourite, boost, bookmark, reply, mention, pin, vote, report or conversation",
      synopsis: "[--days N] [--dry-run]",
      options: { days: { type: "string" }, "dry-run": { type: "boolean" } },
      optionHelp: { days: "minimum age in days (default: content_cache_retention_period)", "dry-run": "only count what would be removed" },
      async run({ values }) {
        const given = intFlag(values.days, "days", 1, 36_500);
        return withDatabase(async (sql, config) => {
          const days = given ?? (await contentRetentionDays({ sql }));
          if (days === null) throw new UsageError("give --days N, or set content_cache_retention_period", "");
          if (values["dry-run"]) {
            const { count, sample } = await previewRemoval({ sql }, days);
            console.log(`Would remove ${count} remote status(es) older than ${days} day(s)${sample.length ? `, e.g. ${sample.join(", ")}` : ""}`);
            return 0;
          }
          // Deletions publish status.deleted like a remote Delete, so feeds and streams follow.
          const redis = await openRedis(config, "app", "woolly-admin");
          const queues = new QueueClient(redis, bullPrefix(config.redis.namespace));
          try {
            const report = await removeOldRemoteStatuses({ sql, config, redis, queues }, { days, pauseMs: 100 });
            console.log(`Removed ${report.removed} remote status(es) older than ${days} day(s) in ${report.batches} batch(es)`);
            return 0;
          } finally {
            await queues.close();
            await redis.quit().catch(() => redis.disconnect());
          }
        });
      },
    },
  ],
};
