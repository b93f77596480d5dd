/** Mastodon's Poll entity (REST::PollSerializer). */
import { emojisOfTexts, renderCustomEmoji, type CustomEmojiEntity } from "../../features/custom-emojis/service";
import type { PollRow } from "../../features/statuses/store";
import type { AppContext } from "../../infra/context";

export interface PollEntity {
  id: string;
  expires_at: string | null;
  expired: boolean;
  multiple: boolean;
  votes_count: number;
  voters_count: number | null;
  options: { title: string; votes_count: number | null }[];
  /** The custom emojis the options use (Mastodon: from the option titles, with the author's server's). */
  emojis: CustomEmojiEntity[];
  voted?: boolean;
  own_votes?: number[];
}

/**
 * `ownVotes` is the viewer's choices, or undefined for an anonymous viewer (then voted/own_votes are left
 * out, as Mastodon does). Tallies of a hide_totals poll stay hidden from everyone but its author until it ends.
 */
export function renderPoll(poll: PollRow, viewerId: string | null, ownVotes: number[] | undefined, emojis: CustomEmojiEntity[] = [], now = new Date()): PollEntity {
  const expired = poll.expires_at !== null && poll.expires_at <= now;
  const hideTallies = poll.hide_totals && !expired && viewerId !== poll.account_id;
  const entity: PollEntity = {
    id: poll.id,
    expires_at: poll.expires_at ? poll.expires_at.toISOString() : null,
    expired,
    multiple: poll.multiple,
    votes_count: poll.votes_count,
    voters_count: poll.multiple ? poll.voters_count : poll.votes_count,
    options: poll.options.map((title, i) => ({ title, votes_count: hideTallies ? null : (poll.cached_tallies[i] ?? 0) })),
    emojis,
  };
  if (ownVotes !== undefined) {
    // The author has always "voted" (Mastodon: a poll's owner cannot vote and sees results).
    entity.voted = viewerId === poll.account_id || ownVotes.length > 0;
    entity.own_votes = ownVotes;
  }
  return entity;
}

/**
 * The custom emojis of some polls' options, by poll id, resolved for each poll's author: one query for all of
 * them, none when no option has a :shortcode: (most polls). Read with the tallies rather than cached with the
 * status, since polls are read fresh on every page anyway.
 */
export async function pollEmojis(context: Pick<AppContext, "sql" | "config">, polls: PollRow[]): Promise<Map<string, CustomEmojiEntity[]>> {
  const used = await emojisOfTexts(context, polls.map((poll) => ({ key: poll.id, accountId: poll.account_id, body: poll.options.join(" ") })));
  return new Map([...used].map(([pollId, emojis]) => [pollId, emojis.map((e) => renderCustomEmoji(context.config, e))]));
}
