/**
 * Scheduled statuses (POST /api/v1/statuses with scheduled_at, /api/v1/scheduled_statuses). The post's
 * parameters are checked now, as if it were posted, and kept as JSON; the `statuses.publish_scheduled`
 * job (every minute) posts the due ones through postStatus, deleting the row in the posting transaction,
 * so a job that runs twice posts once and a failed post stays scheduled for the next run.
 */
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { log } from "../../infra/log";
import { findVisibleAccount, postingDefaults, type LocalAccountRow } from "../accounts/service";
import { reserveMediaForScheduled } from "../media/service";
import { checkMediaCount, checkPoll, checkScheduledAt, checkText, checkVisibility, type ComposeInput } from "./compose";
import { isStatusId, postStatus } from "./service";
import * as store from "./store";

/** Mastodon's limits: 300 scheduled per account, 25 per day. */
const MAX_SCHEDULED = 300;
const MAX_PER_DAY = 25;

export type ScheduledRow = store.ScheduledRow;

export async function scheduleStatus(context: AppContext, author: LocalAccountRow, input: ComposeInput, scheduledAt: string): Promise<ScheduledRow> {
  const at = checkScheduledAt(scheduledAt);
  // The same checks as posting now, so a scheduled post does not fail silently later.
  // The visibility is settled now, as Mastodon does: changing one's default later does not change it.
  const visibility = checkVisibility(input.visibility) ?? postingDefaults(author.user).privacy;
  checkMediaCount(input.media_ids ?? [], input.poll !== undefined);
  if (input.poll) checkPoll(input.poll);
  checkText(input.status ?? "", input.spoiler_text ?? "", (input.media_ids ?? []).length > 0 || input.poll !== undefined, context.config.statuses.maxCharacters);
  const counts = await store.scheduledCounts(context.sql, author.id, at);
  if (counts.total >= MAX_SCHEDULED) throw ApiError.unprocessable(`Validation failed: Scheduled at You have exceeded the limit of ${MAX_SCHEDULED} scheduled statuses`);
  if (counts.sameDay >= MAX_PER_DAY) throw ApiError.unprocessable(`Validation failed: Scheduled at You have exceeded the limit of ${MAX_PER_DAY} scheduled statuses on that day`);
  return context.sql.begin(async (tx) => {
    const row = await store.insertScheduled(tx, author.id, at, { ...input, visibility } as Record<string, unknown>);
    await reserveMediaForScheduled(tx, author.id, row.id, input.media_ids ?? []);
    return row;
  });
}

export async function findOwnScheduled(context: AppContext, author: LocalAccountRow, id: string): Promise<ScheduledRow> {
  const row = isStatusId(id) ? await store.findScheduled(context.sql, author.id, id) : undefined;
  if (!row) throw ApiError.notFound();
  return row;
}

export async function rescheduleOwn(context: AppContext, author: LocalAccountRow, id: string, scheduledAt: string): Promise<ScheduledRow> {
  await findOwnScheduled(context, author, id);
  const row = await store.reschedule(context.sql, author.id, id, checkScheduledAt(scheduledAt));
  if (!row) throw ApiError.notFound();
  return row;
}

export async function cancelOwn(context: AppContext, author: LocalAccountRow, id: string): Promise<void> {
  const row = await findOwnScheduled(context, author, id);
  await store.deleteScheduled(context.sql, row.id);
}

export const listScheduled = store.scheduledOf;

/** Post every due scheduled status (the recurring job). A post that fails its checks now is dropped and logged. */
export async function publishDue(context: AppContext, now = new Date()): Promise<number> {
  let published = 0;
  for (const id of await store.dueScheduledIds(context.sql, now, 500)) {
    if (await publishOne(context, id)) published++;
  }
  return published;
}

/** Thrown inside the posting transaction when another run has already published the row: rolls it back. */
class AlreadyPublished extends Error {}

async function publishOne(context: AppContext, id: string): Promise<boolean> {
  const row = await store.findScheduledById(context.sql, id);
  if (!row) return false;
  const account = await findVisibleAccount(context.sql, row.account_id);
  if (!account?.user || account.suspended_at || account.user.disabled) {
    await store.deleteScheduled(context.sql, id);
    return false;
  }
  try {
    // The row is deleted inside the posting transaction: posted and unscheduled together, or neither.
    await postStatus(context, account as LocalAccountRow, row.params as ComposeInput, {
      within: async (tx) => {
        if (!(await store.claimScheduled(tx, id))) throw new AlreadyPublished();
      },
    });
    return true;
  } catch (error) {
    if (error instanceof AlreadyPublished) return false;
    if (error instanceof ApiError) {
      // No longer postable (media gone, replied-to post deleted…): drop it rather than retry forever.
      log.warn("scheduled status dropped", { id, accountId: row.account_id, error: error.message });
      await store.deleteScheduled(context.sql, id);
      return false;
    }
    throw error;
  }
}
