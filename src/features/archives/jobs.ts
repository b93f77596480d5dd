/**
 * archives.build (default queue): builds one user archive (service.ts). On its last failed try the row is
 * marked failed with the error, so the requester sees it instead of a row pending forever.
 * archives.retention (scheduler queue, hourly): applies the user archive retention period.
 */
import * as v from "valibot";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import type { AppContext } from "../../infra/context";
import { archiveRetentionDays, buildArchive, createArchiveRequest, markArchiveFailed, removeOldArchives } from "./service";

const ATTEMPTS = 3;

export const buildArchiveJob = defineJob({
  name: "archives.build",
  queue: "default",
  schema: v.object({ archiveId: v.pipe(v.string(), v.regex(/^\d{1,19}$/)) }),
  attempts: ATTEMPTS,
  backoffMs: 30_000,
  async handler({ archiveId }, context) {
    try {
      await buildArchive(context, archiveId);
    } catch (error) {
      if (context.attempt >= ATTEMPTS) await markArchiveFailed(context, archiveId, (error as Error).message);
      throw error;
    }
  },
});

export const archiveRetentionJob = defineJob({
  name: "archives.retention",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 60_000,
  async handler(_payload, context) {
    const report = await removeOldArchives(context, { days: await archiveRetentionDays(context) });
    if (report.removed.length > 0) log.info("old user archives removed", { count: report.removed.length, bytes: report.bytes });
  },
});

/** Create a pending archive for a local account and queue its build; returns the row id. */
export async function requestArchive(context: AppContext, username: string): Promise<string> {
  const row = await createArchiveRequest(context, username);
  // The row id as job id: a repeated enqueue of the same archive is ignored by BullMQ.
  await context.queues.enqueue(buildArchiveJob, { archiveId: row.id }, { jobId: `archive-${row.id}` });
  return row.id;
}
