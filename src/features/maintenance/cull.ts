/**
 * `woolly admin accounts cull` (tootctl accounts cull): remote accounts whose actor document is gone for good
 * (404 or 410) are deleted with everything they own; ones that cannot be reached now (network errors,
 * timeouts, 5xx, 429) are kept and listed, since a server that is down today may be back tomorrow. Any other
 * answer (200, 401/403 from a server that wants signatures we could not give) counts as alive.
 */
import type { AppContext } from "../../infra/context";
import { storageFor } from "../../infra/storage/index";
import { fetchActivityJson, FetchFailed } from "../federation/fetch";
import { deleteQuietly } from "../media/service";

export interface CullReport {
  checked: number;
  /** acct (user@domain) of accounts deleted, or that would be on a dry run. */
  gone: string[];
  /** acct and why, for accounts kept because their server did not answer. */
  unreachable: { acct: string; reason: string }[];
}

const BATCH = 100;
/** Checks in flight at once: enough to overlap slow servers, few enough not to hammer one host or our 2 cores. */
const CONCURRENCY = 4;

type Verdict = { kind: "alive" } | { kind: "gone" } | { kind: "unreachable"; reason: string };

async function checkActor(context: AppContext, uri: string): Promise<Verdict> {
  try {
    await fetchActivityJson(context, uri);
    return { kind: "alive" };
  } catch (error) {
    if (!(error instanceof FetchFailed)) throw error;
    if (error.transient) return { kind: "unreachable", reason: error.message };
    // FetchFailed carries the status only in its message ("<url> answered 410"); its url part is ours.
    if (error.message === `${uri} answered 404` || error.message === `${uri} answered 410`) return { kind: "gone" };
    return { kind: "alive" };
  }
}

/** Delete one remote account (statuses, follows, media rows cascade) and then its files. */
async function deleteRemoteAccount(context: AppContext, id: string): Promise<void> {
  const keys = (await context.sql.begin(async (tx) => {
    const [account] = await tx<{ avatar_key: string | null; header_key: string | null }[]>`
      select avatar_key, header_key from accounts where id = ${id} and domain is not null for update`;
    if (!account) return [];
    const media = await tx<{ file_key: string | null; small_key: string | null; upload_key: string | null }[]>`
      select file_key, small_key, upload_key from media_attachments where account_id = ${id}`;
    await tx`delete from accounts where id = ${id}`;
    return [account.avatar_key, account.header_key, ...media.flatMap((m) => [m.file_key, m.small_key, m.upload_key])];
  })) as (string | null)[];
  await deleteQuietly(storageFor(context.config), keys);
}

export async function cullRemoteAccounts(context: AppContext, options: { dryRun: boolean; domain?: string }): Promise<CullReport> {
  const report: CullReport = { checked: 0, gone: [], unreachable: [] };
  let afterId = "0";
  for (;;) {
    const rows = await context.sql<{ id: string; username: string; domain: string; uri: string }[]>`
      select id::text, username, domain, uri from accounts
      where domain is not null and uri <> '' and id > ${afterId}::bigint
        and (${options.domain ?? null}::text is null or lower(domain) = lower(${options.domain ?? null}::text))
      order by id limit ${BATCH}`;
    if (rows.length === 0) return report;
    afterId = rows[rows.length - 1]!.id;
    for (let i = 0; i < rows.length; i += CONCURRENCY) {
      const slice = rows.slice(i, i + CONCURRENCY);
      const verdicts = await Promise.all(slice.map((row) => checkActor(context, row.uri)));
      for (const [n, row] of slice.entries()) {
        const verdict = verdicts[n]!;
        const acct = `${row.username}@${row.domain}`;
        report.checked++;
        if (verdict.kind === "unreachable") report.unreachable.push({ acct, reason: verdict.reason });
        else if (verdict.kind === "gone") {
          report.gone.push(acct);
          if (!options.dryRun) await deleteRemoteAccount(context, row.id);
        }
      }
    }
    if (rows.length < BATCH) return report;
  }
}
