/**
 * `woolly admin accounts refresh` (tootctl accounts refresh): fetch remote actors again now (profile, keys,
 * avatar and header links), for one account or a whole domain. Failures are listed, not fatal: one dead
 * server must not stop a domain-wide refresh.
 */
import { fetchRemoteActor } from "../federation/remote-accounts";
import type { AppContext } from "../../infra/context";

const BATCH = 100;
/** Fetches in flight at once: overlap slow answers without hammering the one host a --domain run targets. */
const CONCURRENCY = 4;

export interface RefreshReport {
  refreshed: string[];
  failed: { acct: string; reason: string }[];
}

/** `acct` is user@domain; `domain` refreshes every known account of that domain. */
export async function refreshRemoteAccounts(context: AppContext, target: { acct: string } | { domain: string }): Promise<RefreshReport> {
  const report: RefreshReport = { refreshed: [], failed: [] };
  const [username, domain] = "acct" in target ? target.acct.replace(/^@/, "").split("@") : [null, target.domain];
  for (let after = "0"; ; ) {
    const rows = await context.sql<{ id: string; username: string; domain: string; uri: string }[]>`
      select id::text, username, domain, uri from accounts
      where domain is not null and uri <> '' and lower(domain) = lower(${domain ?? ""}) and id > ${after}::bigint
        and (${username ?? null}::text is null or lower(username) = lower(${username ?? null}::text))
      order by id limit ${BATCH}`;
    for (let i = 0; i < rows.length; i += CONCURRENCY) {
      const slice = rows.slice(i, i + CONCURRENCY);
      const results = await Promise.allSettled(slice.map((row) => fetchRemoteActor(context, row.uri)));
      results.forEach((result, n) => {
        const acct = `${slice[n]!.username}@${slice[n]!.domain}`;
        if (result.status === "fulfilled") report.refreshed.push(acct);
        else report.failed.push({ acct, reason: (result.reason as Error).message });
      });
    }
    if (rows.length < BATCH) return report;
    after = rows[rows.length - 1]!.id;
  }
}
