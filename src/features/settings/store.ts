import type { Sql } from "../../infra/db";

export async function readAll(sql: Sql): Promise<Map<string, unknown>> {
  const rows = await sql<{ key: string; value: unknown }[]>`select key, value from settings`;
  return new Map(rows.map((r) => [r.key, r.value]));
}

/** A null value (e.g. "keep forever") is stored as JSON null: sql.json(null) would send SQL NULL. */
export async function write(sql: Sql, key: string, value: unknown): Promise<void> {
  await sql`
    insert into settings (key, value, updated_at) values (${key}, ${value === null ? sql`'null'::jsonb` : sql.json(value as never)}, now())
    on conflict (key) do update set value = excluded.value, updated_at = now()`;
}

export async function remove(sql: Sql, key: string): Promise<void> {
  await sql`delete from settings where key = ${key}`;
}
