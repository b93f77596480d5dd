/**
 * `woolly admin maintenance …`: repairs and clean-ups an operator runs by hand (tootctl maintenance), next to
 * the recurring jobs that do the same on a schedule (statuses.purge_deleted, archives.retention).
 */
import { archiveRetentionDays, removeOldArchives } from "../../features/archives/service";
import { fixDuplicates } from "../../features/maintenance/duplicates";
import { countPurgeable, purgeDeletedStatuses, PURGE_AFTER_DAYS } from "../../features/retention/purge";
import { boot } from "../boot";
import { intFlag, type Group } from "../command";
import { withDatabase } from "./database";

const dryRunOption = { "dry-run": { type: "boolean" as const } };

export const maintenanceGroup: Group = {
  name: "maintenance",
  summary: "Repairs and clean-ups: duplicates, purging deleted posts, old user archives",
  commands: [
    {
      name: "fix-duplicates",
      summary: "Merge duplicate accounts and remote statuses a damaged unique index let in, then rebuild the indexes (stop the instance first)",
      synopsis: "[--dry-run]",
      options: dryRunOption,
      optionHelp: { "dry-run": "only list the duplicates" },
      async run({ values }) {
        const dryRun = values["dry-run"] === true;
        const report = await withDatabase((sql) => fixDuplicates(sql, { dryRun }));
        for (const g of report.groups) console.log(`${g.kind} ${g.key}: keep ${g.ids[0]}, ${dryRun ? "would merge" : "merged"} ${g.ids.slice(1).join(", ")}`);
        for (const g of report.localConflicts)
          console.log(`local accounts ${g.ids.join(", ")} share the name ${g.key} (different case): not merged; delete or rename one by hand, then run this again`);
        if (report.reindexed.length > 0) console.log(`reindexed ${report.reindexed.join(", ")}`);
        console.log(
          report.groups.length === 0 && report.localConflicts.length === 0
            ? "No duplicates found"
            : `${report.groups.length} duplicate group(s)${dryRun ? "" : `, ${report.merged} row(s) merged`}, ${report.localConflicts.length} local name conflict(s)`,
        );
        return report.localConflicts.length > 0 ? 1 : 0;
      },
    },
    {
      name: "purge-deleted-statuses",
      summary: `Remove for good statuses deleted more than N days ago (default ${PURGE_AFTER_DAYS}; reported ones are kept)`,
      synopsis: "[--days N] [--dry-run]",
      options: { days: { type: "string" }, ...dryRunOption },
      optionHelp: { days: `minimum days since deletion (default ${PURGE_AFTER_DAYS})`, "dry-run": "only count what would be removed" },
      async run({ values }) {
        const days = intFlag(values.days, "days", 1, 36_500) ?? PURGE_AFTER_DAYS;
        if (values["dry-run"]) {
          const count = await withDatabase((sql) => countPurgeable({ sql }, days));
          console.log(`${count} deleted status(es) would be purged (deleted more than ${days} days ago)`);
          return 0;
        }
        const booted = await boot("admin", "require");
        try {
          const report = await purgeDeletedStatuses(booted.context, { days, pauseMs: 0 });
          console.log(`${report.purged} deleted status(es) purged in ${report.batches} batch(es)`);
        } finally {
          await booted.close();
        }
        return 0;
      },
    },
    {
      name: "remove-old-archives",
      summary: "Delete user archives older than the user archive retention period (setting backups_retention_period)",
      synopsis: "[--days N] [--dry-run]",
      options: { days: { type: "string" }, ...dryRunOption },
      optionHelp: { days: "minimum age in days (default: backups_retention_period)", "dry-run": "only list what would be deleted" },
      async run({ values }) {
        const dryRun = values["dry-run"] === true;
        const booted = await boot("admin", "require");
        try {
          const days = intFlag(values.days, "days", 1, 36_500) ?? (await archiveRetentionDays(booted.context));
          const report = await removeOldArchives(booted.context, { days, dryRun });
          for (const id of report.removed) console.log(`${dryRun ? "would delete" : "deleted"} archive ${id}`);
          console.log(`${report.removed.length} archive(s) ${dryRun ? "would be deleted" : "deleted"} (${report.bytes} bytes)${days === null ? "; retention is off, only archives of deleted accounts count" : ""}`);
        } finally {
          await booted.close();
        }
        return 0;
      },
    },
  ],
};
