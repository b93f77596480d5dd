/**
 * Polls after they are posted (Mastodon's VoteService and PollExpirationNotifyWorker): reading one, voting
 * (once; several choices only in a multiple-choice poll; never in one's own poll or an ended one), and
 * closing ended polls — `poll` notifications for the local voters and the local author, and a `status.update`
 * on the streams so clients redraw the final tallies.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { log } from "../../infra/log";
import { publishEvent } from "../events/publish";
import { notify } from "../notifications/service";
import * as notificationStore from "../notifications/store";
import { findVisibleStatus, isStatusId } from "../statuses/service";
import { streamStatusUpdated } from "../streaming/service";
import * as store from "./store";

export type { PollRow } from "./store";
export const findPoll = store.findPoll;

const invalid = (message: string) => ApiError.unprocessable(`Validation failed: ${message}`);

/** The poll, when the viewer may see the status it belongs to; else 404 as Mastodon. */
export async function findVisiblePoll(sql: Db, viewerId: string | null, id: string): Promise<store.PollRow> {
  const poll = isStatusId(id) ? await store.findPoll(sql, id) : undefined;
  if (!poll || !poll.status_id) throw ApiError.notFound();
  await findVisibleStatus(sql, viewerId, poll.status_id);
  return poll;
}

export async function ownVotes(sql: Db, pollId: string, accountId: string): Promise<number[]> {
  return store.votesOf(sql, pollId, accountId);
}

/** Record the viewer's choices (indexes into the options); returns the poll as it now stands. */
export async function vote(context: AppContext, voterId: string, pollId: string, rawChoices: string[]): Promise<store.PollRow> {
  await findVisiblePoll(context.sql, voterId, pollId);
  if (rawChoices.length === 0) throw ApiError.badRequest("param is missing or the value is empty: choices");
  if (!rawChoices.every((c) => /^\d{1,3}$/.test(c))) throw invalid("Choice is invalid");
  const choices = rawChoices.map(Number);
  const updated = await context.sql.begin(async (tx) => {
    const poll = (await store.lockPoll(tx, pollId))!;
    if (poll.account_id === voterId) throw invalid("You cannot vote in your own polls");
    if (poll.expires_at && poll.expires_at <= new Date()) throw invalid("The poll has already ended");
    if (choices.some((c) => c >= poll.options.length)) throw invalid("Choice is invalid");
    if (new Set(choices).size !== choices.length) throw invalid("You have already voted on this poll");
    const previous = await store.votesOf(tx, poll.id, voterId);
    // Mastodon: a single-choice poll takes one vote per voter; a multiple one, each choice once, in one go.
    if (previous.length > 0 || (!poll.multiple && choices.length > 1)) throw invalid("You have already voted on this poll");
    await store.insertVotes(tx, poll.id, voterId, choices);
    await store.addToTallies(tx, poll.id, choices);
    return (await store.findPoll(tx, poll.id))!;
  });
  await publishEvent(context, { type: "poll.voted", pollId, accountId: voterId, choices });
  return updated;
}

/**
 * One more option of a multiple-choice poll from a voter who has voted already: how a remote server sends a
 * multiple vote (one Create per option). Counts the vote, not a new voter.
 */
export async function addRemoteChoice(context: AppContext, voterId: string, pollId: string, choice: number): Promise<void> {
  await context.sql.begin(async (tx) => {
    const poll = (await store.lockPoll(tx, pollId))!;
    if (!poll.multiple) throw invalid("You have already voted on this poll");
    if (poll.expires_at && poll.expires_at <= new Date()) throw invalid("The poll has already ended");
    if (choice >= poll.options.length) throw invalid("Choice is invalid");
    if ((await store.votesOf(tx, poll.id, voterId)).includes(choice)) throw invalid("You have already voted on this poll");
    await store.insertVotes(tx, poll.id, voterId, [choice]);
    await store.addChoiceToTallies(tx, poll.id, choice);
  });
}

/** Polls closed per job run; the rest wait for the next minute. */
const BATCH = 200;

/**
 * Close the polls that have ended: the local voters and the local author get a `poll` notification and the
 * streams a `status.update`; then the poll is marked closed. A crash in between only means the next run
 * does it again, and that is harmless: a notification exists once per cause (the notifications table's
 * unique key), so two runs at once or a rerun notify nobody twice. Returns how many were closed.
 */
export async function closeExpiredPolls(context: AppContext): Promise<number> {
  const due = await store.dueForClosing(context.sql, BATCH);
  let closed = 0;
  for (const poll of due) {
    try {
      if (poll.status_id) {
        for (const voterId of await store.localVoters(context.sql, poll.id)) {
          await notify(context, { recipientId: voterId, fromAccountId: poll.account_id, type: "poll", statusId: poll.status_id });
        }
        if (poll.local) await notifyAuthor(context, poll.account_id, poll.status_id);
        await streamStatusUpdated(context, poll.status_id, `poll-${poll.id}-closed`);
      }
      await store.markClosed(context.sql, poll.id);
      closed++;
    } catch (error) {
      // Left open for the next run; one failing poll must not hold back the others in the batch.
      log.warn("polls: closing a poll failed", { poll_id: poll.id, error: String((error as Error)?.message ?? error) });
    }
  }
  return closed;
}

/**
 * Mastodon tells the author their poll ended, from themselves. `notify` never notifies anyone of their own
 * doing, so this one notification is written here, as notify would (ungrouped, once per cause).
 */
async function notifyAuthor(context: AppContext, authorId: string, statusId: string): Promise<void> {
  const id = await notificationStore.newId(context.sql);
  const created = await notificationStore.insertNotification(context.sql, {
    id,
    accountId: authorId,
    fromAccountId: authorId,
    type: "poll",
    statusId,
    groupKey: `ungrouped-${id}`,
    filtered: false,
  });
  if (created) await publishEvent(context, { type: "notification.created", notificationId: created, accountId: authorId });
}
