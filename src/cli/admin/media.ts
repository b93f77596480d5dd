/** `woolly admin media …`: storage use and the orphan sweep (tootctl media usage / remove-orphans). */
import { mediaUsage, removeOrphans } from "../../features/media/service";
import { intFlag, type Group } from "../command";
import { withDatabase } from "./database";

function humanBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export const mediaGroup: Group = {
  name: "media",
  summary: "Media storage: usage and cleanup",
  commands: [
    {
      name: "usage",
      summary: "Bytes stored for media attachments, by local/remote and by type",
      synopsis: "[--json]",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const rows = await withDatabase((sql) => mediaUsage(sql));
        if (values.json) {
          console.log(JSON.stringify(rows, null, 2));
          return 0;
        }
        for (const origin of ["local", "remote"] as const) {
          const mine = rows.filter((r) => r.origin === origin);
          const total = mine.reduce((sum, r) => sum + r.bytes, 0);
          console.log(`${origin} media: ${humanBytes(total)} in ${mine.reduce((sum, r) => sum + r.count, 0)} file(s)`);
          for (const row of mine) console.log(`  ${row.type.padEnd(8)} ${humanBytes(row.bytes).padStart(10)}  ${row.count}`);
        }
        return 0;
      },
    },
    {
      name: "remove-orphans",
      summary: "Delete uploads never attached to a status (files, then rows)",
      synopsis: "[--dry-run] [--hours N]",
      options: { "dry-run": { type: "boolean" }, hours: { type: "string" } },
      optionHelp: { "dry-run": "only count what would be removed", hours: "minimum age in hours (default 24)" },
      async run({ values }) {
        const hours = intFlag(values.hours, "hours", 1, 24 * 365) ?? 24;
        const dryRun = values["dry-run"] === true;
        const result = await withDatabase((sql, config) => removeOrphans({ sql, config }, { olderThanMs: hours * 3600 * 1000, dryRun }));
        console.log(`${dryRun ? "Would remove" : "Removed"} ${result.count} unattached upload(s) older than ${hours} h (${humanBytes(result.bytes)})`);
        return 0;
      },
    },
  ],
};
