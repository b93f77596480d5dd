/**
 * Migration runner. Each pending migration runs in its own transaction that first takes a transaction-scoped
 * advisory lock and re-checks the ledger, so two processes migrating at once apply each file exactly once.
 */
import { MIGRATIONS, type Migration } from "../../migrations/index";
import type { Sql } from "./db";

const LOCK_KEY = 7_266_771_101; // arbitrary, constant: "woolly migrations"

async function ensureLedger(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())`;
  });
}

export async function appliedVersions(sql: Sql): Promise<Set<string>> {
  const [exists] = await sql<{ ok: boolean }[]>`select to_regclass('schema_migrations') is not null as ok`;
  if (!exists?.ok) return new Set();
  const rows = await sql<{ version: string }[]>`select version from schema_migrations`;
  return new Set(rows.map((r) => r.version));
}

export async function pendingMigrations(sql: Sql, all: Migration[] = MIGRATIONS): Promise<Migration[]> {
  const applied = await appliedVersions(sql);
  return all.filter((m) => !applied.has(m.version));
}

export interface MigrationStatus {
  version: string;
  appliedAt: Date | null;
}

export async function migrationStatus(sql: Sql): Promise<MigrationStatus[]> {
  const [exists] = await sql<{ ok: boolean }[]>`select to_regclass('schema_migrations') is not null as ok`;
  const rows = exists?.ok ? await sql<{ version: string; applied_at: Date }[]>`select version, applied_at from schema_migrations` : [];
  const byVersion = new Map(rows.map((r) => [r.version, r.applied_at]));
  return MIGRATIONS.map((m) => ({ version: m.version, appliedAt: byVersion.get(m.version) ?? null }));
}

/** Apply what is pending; returns the versions this call applied (others may have been applied concurrently). */
export async function migrate(sql: Sql, all: Migration[] = MIGRATIONS, onApply?: (version: string) => void): Promise<string[]> {
  await ensureLedger(sql);
  const applied: string[] = [];
  for (const migration of all) {
    const didApply = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      const [done] = await tx`select 1 from schema_migrations where version = ${migration.version}`;
      if (done) return false;
      await tx.unsafe(migration.sql).simple();
      await tx`insert into schema_migrations (version) values (${migration.version})`;
      return true;
    });
    if (didApply) {
      applied.push(migration.version);
      onApply?.(migration.version);
    }
  }
  return applied;
}
