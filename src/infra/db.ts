/**
 * Postgres through postgres.js: one pool per process, sized by DB_POOL. PREPARED_STATEMENTS=false turns off
 * named prepared statements so the pool works behind pgbouncer in transaction mode.
 */
import postgres from "postgres";
import type { Config } from "./config";

export type Sql = postgres.Sql<Record<string, never>>;
export type Tx = postgres.TransactionSql<Record<string, never>>;
/** What store functions take: the pool, or a transaction when the caller needs several writes to be atomic. */
export type Db = Sql | Tx;

export function createDb(config: Config["db"], options: { max?: number; applicationName?: string } = {}): Sql {
  return postgres(config.url, {
    max: options.max ?? config.pool,
    prepare: config.preparedStatements,
    ssl: config.ssl,
    connect_timeout: config.connectTimeoutSeconds,
    idle_timeout: 60,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "woolly" },
    // 64-bit ids stay exact: bigint columns come back as JS strings unless a query casts them.
    types: {},
  }) as Sql;
}

/** A cheap round trip with its own deadline, for /health and start-up checks. */
export async function pingDb(sql: Sql, timeoutMs = 2000): Promise<void> {
  await withTimeout(sql`select 1`.execute(), timeoutMs, "Postgres did not answer in time");
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: "ETIMEDOUT" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
