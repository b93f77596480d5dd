/**
 * admin.purge_domain: after a domain is suspended, delete its cached remote accounts (statuses, media rows,
 * follows cascade) and their media files. One job handles one batch and re-enqueues itself for the next,
 * so a domain with 50,000 accounts is many short jobs interleaved with everything else on the queue rather
 * than one that holds a worker for minutes. It stops when nothing is left or the suspension was lifted.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { defineJob } from "../../infra/queues/registry";
import { storageFor } from "../../infra/storage";
import { deleteQuietly } from "../media/service";
import * as federation from "../federation/store";

export const PURGE_BATCH = 100;

/** Delete one batch of a domain's cached accounts and their media files; returns how many accounts went. */
export async function purgeDomainBatch(context: Pick<AppContext, "sql" | "config">, domain: string): Promise<number> {
  const { accounts, keys } = await federation.deleteRemoteAccountsBatch(context.sql, domain, PURGE_BATCH);
  await deleteQuietly(storageFor(context.config), keys);
  return accounts;
}

export const purgeDomainJob = defineJob({
  name: "admin.purge_domain",
  queue: "default",
  schema: v.object({ domain: v.pipe(v.string(), v.minLength(1), v.maxLength(253)) }),
  attempts: 5,
  backoffMs: 5000,
  async handler({ domain }, context) {
    const block = await federation.findDomainBlock(context.sql, domain);
    if (block?.severity !== "suspend") return;
    const accounts = await purgeDomainBatch(context, domain);
    // A low priority (higher number) keeps the next batch behind work users are waiting for.
    if (accounts === PURGE_BATCH) await context.queues.enqueue(purgeDomainJob, { domain }, { priority: 100 });
  },
});
