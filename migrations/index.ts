/**
 * Every migration, in order, embedded into the binary as text. Add a new file here when you add one to
 * this folder (test/unit/migrations.test.ts fails if the two disagree). Never edit an applied migration.
 */
import m0001 from "./0001_foundation.sql" with { type: "text" };
import m0002 from "./0002_accounts.sql" with { type: "text" };
import m0003 from "./0003_oauth.sql" with { type: "text" };
import m0004 from "./0004_media.sql" with { type: "text" };
import m0005 from "./0005_token_reuse.sql" with { type: "text" };
import m0006 from "./0006_social.sql" with { type: "text" };
import m0007 from "./0007_statuses.sql" with { type: "text" };
import m0008 from "./0008_notifications.sql" with { type: "text" };
import m0010 from "./0010_federation.sql" with { type: "text" };
import m0011 from "./0011_lists.sql" with { type: "text" };

export interface Migration {
  version: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { version: "0001_foundation", sql: m0001 },
  { version: "0002_accounts", sql: m0002 },
  { version: "0003_oauth", sql: m0003 },
  { version: "0004_media", sql: m0004 },
  { version: "0005_token_reuse", sql: m0005 },
  { version: "0006_social", sql: m0006 },
  { version: "0007_statuses", sql: m0007 },
  { version: "0008_notifications", sql: m0008 },
  { version: "0010_federation", sql: m0010 },
  { version: "0011_lists", sql: m0011 },
];
