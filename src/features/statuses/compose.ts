/**
 * The rules a new or edited status must meet before anything is written, with Mastodon's 422 messages
 * (PostStatusService, StatusLengthValidator, PollValidator). Pure: no database.
 */
import { ApiError } from "../../infra/errors";
import { statusLength } from "../text/mentions-and-tags";
import { VISIBILITIES, type Visibility } from "./visibility";

export const STATUS_LIMITS = {
  /** The default; an instance sets its own with MAX_TOOT_CHARS (config.statuses.maxCharacters). */
  maxCharacters: 500,
  maxMediaAttachments: 4,
  poll: { maxOptions: 4, maxCharactersPerOption: 50, minExpiration: 300, maxExpiration: 2_629_746 },
  /** scheduled_at must be at least this far ahead (Mastodon: 5 minutes). */
  minScheduleAheadMs: 5 * 60 * 1000,
} as const;

export interface PollInput {
  options: string[];
  expires_in: number;
  multiple?: boolean;
  hide_totals?: boolean;
}

export interface ComposeInput {
  status?: string;
  spoiler_text?: string;
  sensitive?: boolean;
  visibility?: Visibility | string;
  in_reply_to_id?: string;
  language?: string;
  media_ids?: string[];
  poll?: PollInput;
  application_id?: string | null;
}

const invalid = (message: string) => ApiError.unprocessable(`Validation failed: ${message}`);

export function checkVisibility(value: string | undefined): Visibility | undefined {
  if (value === undefined || value === "") return undefined;
  if (!(VISIBILITIES as readonly string[]).includes(value)) throw invalid("Visibility is not included in the list");
  return value as Visibility;
}

export function checkText(text: string, spoilerText: string, hasMediaOrPoll: boolean, maxCharacters: number = STATUS_LIMITS.maxCharacters): void {
  if (text.trim() === "" && !hasMediaOrPoll) throw invalid("Text can't be blank");
  if (statusLength(text) + statusLength(spoilerText) > maxCharacters) {
    throw invalid(`Text character limit of ${maxCharacters} exceeded`);
  }
}

export function checkMediaCount(mediaIds: string[], hasPoll: boolean): void {
  if (mediaIds.length === 0) return;
  // Mastodon answers a poll together with media with the same message as too many files.
  if (mediaIds.length > STATUS_LIMITS.maxMediaAttachments || hasPoll) {
    throw ApiError.unprocessable(`Cannot attach more than ${STATUS_LIMITS.maxMediaAttachments} files`);
  }
}

export function checkPoll(poll: PollInput): { options: string[]; expiresAt: Date; multiple: boolean; hideTotals: boolean } {
  const limits = STATUS_LIMITS.poll;
  const options = poll.options.map((o) => o.trim());
  if (options.length < 2) throw invalid("Poll options must have more than one item");
  if (options.length > limits.maxOptions) throw invalid(`Poll options can't contain more than ${limits.maxOptions} items`);
  if (options.some((o) => o === "")) throw invalid("Poll options can't be blank");
  if (options.some((o) => [...o].length > limits.maxCharactersPerOption)) {
    throw invalid(`Poll options cannot be longer than ${limits.maxCharactersPerOption} characters each`);
  }
  if (new Set(options).size !== options.length) throw invalid("Poll options must not contain duplicate items");
  if (!Number.isFinite(poll.expires_in) || poll.expires_in < limits.minExpiration) throw invalid("Poll expires at is too soon");
  if (poll.expires_in > limits.maxExpiration) throw invalid("Poll expires at is too far into the future");
  return {
    options,
    expiresAt: new Date(Date.now() + Math.floor(poll.expires_in) * 1000),
    multiple: poll.multiple === true,
    hideTotals: poll.hide_totals === true,
  };
}

/** ISO 639-1 (two letters) as Mastodon keeps it; anything else falls back to the caller's default. */
export function normaliseLanguage(value: string | undefined, fallback: string | null): string | null {
  const code = value?.trim().toLowerCase();
  if (code && /^[a-z]{2}$/.test(code)) return code;
  return fallback && /^[a-z]{2}$/.test(fallback) ? fallback : null;
}

/** scheduled_at must be a real time at least 5 minutes ahead. */
export function checkScheduledAt(value: string, now = Date.now()): Date {
  const at = new Date(value);
  // Years past 9999 are valid JavaScript dates that Postgres cannot store.
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() > 9999) throw invalid("Scheduled at is invalid");
  if (at.getTime() - now < STATUS_LIMITS.minScheduleAheadMs) throw invalid("Scheduled at The scheduled date must be in the future");
  return at;
}
