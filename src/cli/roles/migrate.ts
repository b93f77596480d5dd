import { migrationStatus, migrate } from "../../infra/migrate";
import type { Command } from "../command";
import { openDatabase, readConfig } from "../boot";

export const migrateCommand: Command = {
  name: "migrate",
  summary: "Apply pending database migrations (safe to run from several processes at once)",
  synopsis: "[--status]",
  options: { status: { type: "boolean" } },
  optionHelp: { status: "list migrations and whether each is applied; change nothing" },
  async run({ values }) {
    const config = readConfig("migrate");
    const sql = await openDatabase(config, { max: 2, applicationName: "woolly-migrate" });
    try {
      if (values.status) {
        const status = await migrationStatus(sql);
        for (const row of status) console.log(`${row.appliedAt ? "applied" : "pending"}  ${row.version}${row.appliedAt ? `  ${row.appliedAt.toISOString()}` : ""}`);
        const pending = status.filter((r) => !r.appliedAt).length;
        console.log(pending ? `${pending} pending` : "up to date");
        return 0;
      }
      const applied = await migrate(sql, undefined, (version) => console.log(`applied ${version}`));
      console.log(applied.length ? `${applied.length} migration(s) applied` : "already up to date");
      return 0;
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
};
