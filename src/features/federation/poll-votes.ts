/**
 * Votes on polls across servers, as Mastodon sends them: each chosen option is a Create of a Note whose
 * `name` is the option's title, `inReplyTo` the poll's Question and no content, addressed to the poll's
 * author only (a vote is private between voter and author; the author's server publishes the new counts in
 * an Update of the Question).
 * - Out: a local account voted on a remote poll → one Create(Note) per choice to the author's inbox.
 * - In: a remote account's vote on a local poll is counted through the polls service, with the same rules
 *   as a local vote (visibility, once, multiple only when allowed, not after the end).
 */
import type { Subscriber } from "../events/publish";
import { eventSchema } from "../events/schema";
import type { EventOf } from "../events/types";
import type { AppContext } from "../../infra/context";
import { defineJob } from "../../infra/queues/registry";
import { ApiError } from "../../infra/errors";
import { log } from "../../infra/log";
import * as polls from "../polls/service";
import { AS_CONTEXT } from "./activities";
import { dedupeInboxes, preferredInbox } from "./addressing";
import { enqueueDeliveries } from "./delivery-jobs";
import * as store from "./outbound-store";

/** A vote is a Note with a name, a parent and no content (Mastodon's poll_vote? check). */
export function isPollVote(object: Record<string, unknown>): boolean {
  return object.type === "Note" && typeof object.name === "string" && typeof object.inReplyTo === "string" && (object.content === undefined || object.content === null || object.content === "");
}

/** After a local vote commits: tell the poll's remote author. Local polls need nothing. */
export async function sendPollVotes(context: AppContext, voterId: string, poll: polls.PollRow, choices: number[]): Promise<void> {
  if (!poll.status_id) return;
  const [statusRow] = await context.sql<{ uri: string }[]>`select uri from statuses where id = ${poll.status_id}`;
  const refs = await store.accountRefs(context.sql, [voterId, poll.account_id]);
  const voter = refs.get(voterId);
  const author = refs.get(poll.account_id);
  if (!statusRow || !voter || !author || author.domain === null || voter.domain !== null) return;
  const inboxes = dedupeInboxes([author.inbox_url ?? preferredInbox(author)]);
  for (const choice of choices) {
    const noteId = `${voter.uri}#votes/${poll.id}/${choice}`;
    const activity = {
      "@context": AS_CONTEXT,
      id: `${noteId}/activity`,
      type: "Create",
      actor: voter.uri,
      to: [author.uri],
      object: { id: noteId, type: "Note", name: poll.options[choice], attributedTo: voter.uri, to: [author.uri], inReplyTo: statusRow.uri },
    };
    await enqueueDeliveries(context, voterId, activity, inboxes);
  }
}

/** A remote vote on one of our polls; returns the outcome for the inbox's log. */
export async function receivePollVote(context: AppContext, voterId: string, object: Record<string, unknown>): Promise<string> {
  const [target] = await context.sql<{ poll_id: string | null }[]>`
    select poll_id from statuses where uri = ${object.inReplyTo as string} and local and deleted_at is null`;
  if (!target?.poll_id) return "ignored: not a vote on a local poll";
  const poll = await polls.findVisiblePoll(context.sql, voterId, target.poll_id).catch(() => undefined);
  if (!poll) return "ignored: poll not visible to the voter";
  const choice = poll.options.indexOf(object.name as string);
  if (choice < 0) return "ignored: no such option";
  // A multiple-choice vote arrives as one Create per option: add this one to what the voter chose before.
  const previous = await polls.ownVotes(context.sql, poll.id, voterId);
  if (previous.includes(choice)) return "duplicate";
  try {
    if (previous.length === 0) await polls.vote(context, voterId, poll.id, [String(choice)]);
    else if (poll.multiple) await polls.addRemoteChoice(context, voterId, poll.id, choice);
    else return "ignored: already voted";
  } catch (error) {
    if (error instanceof ApiError) {
      log.info("remote poll vote refused", { poll: poll.id, reason: error.message });
      return `ignored: ${error.message}`;
    }
    throw error;
  }
  return "voted";
}

/** On `push`: a counted vote becomes activities when the voter is local and the poll remote. */
export const sendPollVotesJob = defineJob({
  name: "activitypub.poll-votes",
  queue: "push",
  schema: eventSchema,
  attempts: 5,
  backoffMs: 2000,
  async handler(event, context) {
    const voted = event as unknown as EventOf<"poll.voted">;
    const poll = await polls.findPoll(context.sql, voted.pollId);
    if (poll) await sendPollVotes(context, voted.accountId, poll, voted.choices);
  },
});

export const pollVoteSubscribers: Subscriber[] = [{ events: ["poll.voted"], job: sendPollVotesJob }];
