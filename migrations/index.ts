/**
 * Every migration, in order, embedded into the binary as text. Add a new file here when you add one to
 * this folder (test/unit/migrations.test.ts fails if the two disagree). Never edit an applied migration.
 */
import m0001 from "./0001_foundation.sql" with { type: "text" };
import m0002 from "./0002_accounts.sql" with { type: "text" };

export interface Migration {
  version: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { version: "0001_foundation", sql: m0001 },
  { version: "0002_accounts", sql: m0002 },
];
