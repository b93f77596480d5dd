/**
 * `woolly admin backup FILE [--include-media]`: pg_dump of the database plus a manifest of media keys in
 * one tar (see features/admin/backup.ts); restoring is step by step in docs/backup.md.
 */
import { existsSync } from "node:fs";
import { createBackup } from "../../features/admin/backup";
import { CliError, EXIT_USAGE, type Command } from "../command";
import { withDatabase } from "./database";

export const backupCommand: Command = {
  name: "backup",
  summary: "Write a backup (database dump + media key manifest) to a tar file",
  synopsis: "FILE [--include-media] [--force]",
  positionals: { min: 1, max: 1 },
  options: { "include-media": { type: "boolean" }, force: { type: "boolean" } },
  optionHelp: {
    "include-media": "also put the media files in the tar (local storage only)",
    force: "overwrite FILE if it exists",
  },
  async run({ positionals, values }) {
    const file = positionals[0]!;
    if (existsSync(file) && values.force !== true) throw new CliError(`${file} exists; pass --force to overwrite it`, EXIT_USAGE);
    const manifest = await withDatabase(async (sql, config) => {
      try {
        return await createBackup(sql, config, file, { includeMedia: values["include-media"] === true });
      } catch (error) {
        throw new CliError((error as Error).message);
      }
    });
    console.log(
      `backup written to ${file}: database ${manifest.database.bytes} bytes, ${manifest.migrations.length} migrations, ` +
        `${manifest.media.keys.length} media keys${manifest.media.included ? " (files included)" : " (files not included)"}`,
    );
    return 0;
  },
};
