/**
 * `woolly admin maintenance fix-duplicates` (tootctl maintenance fix-duplicates). Unique indexes keep accounts
 * (lower(username) + domain, remote uri) and remote statuses (uri) single; but an index built under one
 * collation and read under another (an OS / glibc upgrade under Postgres) or a crash can stop enforcing that,
 * and duplicates slip in. This finds them with index scans switched off (a damaged index would hide them),
 * merges each group into its oldest row, then REINDEXes the three indexes, all in one transaction: either all
 * of it applies, or nothing does.
 *
 * Merging: for remote accounts, statuses and follows (both ways) and favourites / bookmarks move to the kept
 * account where that makes no second copy; for statuses, favourites, bookmarks, pins, boosts and replies move
 * to the kept status. What cannot move (it already exists on the kept row) goes with the duplicate's cascade.
 * Two LOCAL accounts whose names differ only by case are people, not copies: they are reported and left for
 * the operator, and the username index is then not rebuilt (REINDEX would fail on them).
 *
 * Like tootctl's, run it with the instance stopped: REINDEX blocks writes to those tables while it runs.
 */
import type { Sql, Tx } from "../../infra/db";
import { recount } from "./recount";

export interface DuplicateGroup {
  kind: "account-username" | "account-uri" | "status-uri";
  key: string;
  /** Row ids, the kept one (oldest) first. */
  ids: string[];
}

export interface DuplicatesReport {
  groups: DuplicateGroup[];
  /** Local accounts differing only by case: reported, not merged. */
  localConflicts: DuplicateGroup[];
  merged: number;
  reindexed: string[];
}

const INDEXES = { accounts: ["accounts_remote_uri", "accounts_username_domain"], statuses: ["statuses_remote_uri"] };

/** Off while looking for duplicates (a damaged index would hide them); back on for the merges, which look rows up by id. */
async function indexScans(tx: Tx, on: boolean): Promise<void> {
  const value = on ? "on" : "off";
  for (const setting of ["enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"]) await tx`select set_config(${setting}, ${value}, true)`;
}

async function findGroups(tx: Tx): Promise<{ groups: DuplicateGroup[]; localConflicts: DuplicateGroup[] }> {
  const byName = await tx<{ key: string; ids: string[]; local: boolean }[]>`
    select lower(username) || '@' || lower(coalesce(domain, '')) as key, array_agg(id::text order by id) as ids, bool_and(domain is null) as local
    from accounts group by lower(username), lower(coalesce(domain, '')) having count(*) > 1`;
  const byAccountUri = await tx<{ key: string; ids: string[] }[]>`
    select uri as key, array_agg(id::text order by id) as ids from accounts where domain is not null group by uri having count(*) > 1`;
  const byStatusUri = await tx<{ key: string; ids: string[] }[]>`
    select uri as key, array_agg(id::text order by id) as ids from statuses where local = false group by uri having count(*) > 1`;
  const groups: DuplicateGroup[] = [];
  const localConflicts: DuplicateGroup[] = [];
  for (const g of byName) (g.local ? localConflicts : groups).push({ kind: "account-username", key: g.key, ids: g.ids });
  const seen = new Set(groups.flatMap((g) => g.ids.slice(1)));
  // The same copies usually show up by name and by uri: merge each duplicate once.
  for (const g of byAccountUri) if (!g.ids.slice(1).every((id) => seen.has(id))) groups.push({ kind: "account-uri", key: g.key, ids: g.ids });
  for (const g of byStatusUri) groups.push({ kind: "status-uri", key: g.key, ids: g.ids });
  return { groups, localConflicts };
}

async function mergeAccount(tx: Tx, keep: string, dup: string): Promise<void> {
  await tx`update statuses set account_id = ${keep} where account_id = ${dup}`;
  await tx`update follows f set account_id = ${keep} where f.account_id = ${dup} and f.target_account_id <> ${keep}
    and not exists (select 1 from follows o where o.account_id = ${keep} and o.target_account_id = f.target_account_id)`;
  await tx`update follows f set target_account_id = ${keep} where f.target_account_id = ${dup} and f.account_id <> ${keep}
    and not exists (select 1 from follows o where o.target_account_id = ${keep} and o.account_id = f.account_id)`;
  for (const table of ["favourites", "bookmarks"] as const) {
    await tx`update ${tx(table)} x set account_id = ${keep} where x.account_id = ${dup}
      and not exists (select 1 from ${tx(table)} o where o.account_id = ${keep} and o.status_id = x.status_id)`;
  }
  await tx`delete from accounts where id = ${dup}`;
}

async function mergeStatus(tx: Tx, keep: string, dup: string): Promise<void> {
  for (const table of ["favourites", "bookmarks", "status_pins"] as const) {
    await tx`update ${tx(table)} x set status_id = ${keep} where x.status_id = ${dup}
      and not exists (select 1 from ${tx(table)} o where o.status_id = ${keep} and o.account_id = x.account_id)`;
  }
  await tx`update statuses r set reblog_of_id = ${keep} where r.reblog_of_id = ${dup}
    and not exists (select 1 from statuses o where o.reblog_of_id = ${keep} and o.account_id = r.account_id and o.deleted_at is null)`;
  await tx`update statuses set in_reply_to_id = ${keep} where in_reply_to_id = ${dup}`;
  await tx`delete from statuses where id = ${dup}`;
}

export async function fixDuplicates(sql: Sql, options: { dryRun: boolean }): Promise<DuplicatesReport> {
  const report = (await sql.begin(async (tx) => {
    await indexScans(tx, false);
    const { groups, localConflicts } = await findGroups(tx);
    await indexScans(tx, true);
    const result: DuplicatesReport = { groups, localConflicts, merged: 0, reindexed: [] };
    if (options.dryRun) return result;
    // Accounts first: merging them moves statuses, which the status groups then see under the kept account.
    for (const group of groups.filter((g) => g.kind !== "status-uri")) {
      for (const dup of group.ids.slice(1)) {
        const [exists] = await tx`select 1 from accounts where id = ${dup}`;
        if (!exists) continue;
        await mergeAccount(tx, group.ids[0]!, dup);
        result.merged++;
      }
    }
    for (const group of groups.filter((g) => g.kind === "status-uri")) {
      for (const dup of group.ids.slice(1)) {
        await mergeStatus(tx, group.ids[0]!, dup);
        result.merged++;
      }
    }
    const indexes = [...INDEXES.accounts.filter((name) => name !== "accounts_username_domain" || localConflicts.length === 0), ...INDEXES.statuses];
    for (const name of indexes) {
      const [present] = await tx`select 1 from pg_class where relname = ${name} and relkind = 'i'`;
      if (!present) continue;
      await tx.unsafe(`reindex index ${name}`);
      result.reindexed.push(name);
    }
    return result;
  })) as DuplicatesReport;
  // Merges change followers / statuses / favourites counts; recompute them (batched, outside the transaction).
  if (report.merged > 0) {
    await recount(sql, "accounts");
    await recount(sql, "statuses");
  }
  return report;
}
