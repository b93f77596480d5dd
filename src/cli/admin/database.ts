/** Shared by admin commands that work on the database: open a small pool, require a migrated schema. */
import type { Config } from "../../infra/config";
import type { Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { CliError, EXIT_USAGE } from "../command";
import { checkMigrations, openDatabase, readConfig } from "../boot";

export async function withDatabase<T>(fn: (sql: Sql, config: Config) => Promise<T>): Promise<T> {
  const config = readConfig("admin");
  const sql = await openDatabase(config, { max: 2, applicationName: "woolly-admin" });
  try {
    await checkMigrations(sql, "require");
    return await fn(sql, config);
  } catch (error) {
    // A refusal from a feature (unknown name, invalid value) is the operator's input: exit 2 with its message.
    if (error instanceof ApiError) {
      throw new CliError(error.message, error.status === 404 || error.status === 422 ? EXIT_USAGE : 1);
    }
    throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
