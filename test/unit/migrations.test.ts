import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { MIGRATIONS } from "../../migrations/index";

test("every SQL file in migrations/ is embedded, in order, exactly once", () => {
  const files = readdirSync(resolve(import.meta.dir, "../../migrations"))
    .filter((f) => f.endsWith(".sql"))
    .map((f) => f.replace(/\.sql$/, ""))
    .sort();
  expect(MIGRATIONS.map((m) => m.version)).toEqual(files);
  for (const migration of MIGRATIONS) expect(migration.sql.length).toBeGreaterThan(0);
});
