/**
 * Status text → what Mastodon makes of it: the `@mentions` and `#hashtags` it names, its length as counted
 * against the limit, and its HTML (plainToHtml plus mention and hashtag links). Pure: the caller looks up
 * which handles name real accounts and passes them in; unknown handles stay plain text.
 *
 * Patterns follow Mastodon's Account::MENTION_RE and Tag::HASHTAG_RE: a mention or tag must not follow a
 * word character, `/` or `=` (so e-mail addresses and URL fragments are not taken for them).
 */
import { escapeHtml, plainToHtml } from "./plain-to-html";
import { countableLength } from "./length";

const MENTION_RE = /(?<![=/\p{L}\p{N}_])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@([\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+))?/giu;
const HASHTAG_RE = /(?<![=/)\p{L}\p{N}_])#([\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)/gu;

export interface Mention {
  /** As written, without the @. */
  username: string;
  /** The domain as written, or null for a bare @user. */
  domain: string | null;
}

/** Mentions in order of first appearance, one per handle (case-insensitive). */
export function extractMentions(text: string): Mention[] {
  const seen = new Map<string, Mention>();
  for (const match of text.matchAll(MENTION_RE)) {
    const mention = { username: match[1]!, domain: match[2] ?? null };
    const key = handleKey(mention.username, mention.domain);
    if (!seen.has(key)) seen.set(key, mention);
  }
  return [...seen.values()];
}

export function handleKey(username: string, domain: string | null): string {
  return domain ? `${username.toLowerCase()}@${domain.toLowerCase()}` : username.toLowerCase();
}

export interface Hashtag {
  /** Normalised: lower-case (the tags table key). */
  name: string;
  /** As first written. */
  display: string;
}

export function extractHashtags(text: string): Hashtag[] {
  const seen = new Map<string, Hashtag>();
  for (const match of text.matchAll(HASHTAG_RE)) {
    const display = match[1]!;
    // Tag names are compared the way Mastodon normalises them: NFKC and lower case.
    const name = display.normalize("NFKC").toLowerCase();
    if (name.length > 0 && !seen.has(name)) seen.set(name, { name, display });
  }
  return [...seen.values()];
}

/** Mastodon counts `@user@domain` as `@user`, and URLs as 23 characters (countableLength). */
export function statusLength(text: string): number {
  return countableLength(text.replace(MENTION_RE, (_all, username: string) => `@${username}`));
}

export interface LinkTargets {
  /** handleKey → the account's profile URL and username; handles missing here stay text. */
  mentions: Map<string, { url: string; username: string }>;
  baseUrl: string;
}

/** Escape one run of text (no URLs in it) and turn known mentions and every hashtag into links. */
function renderEntities(text: string, targets: LinkTargets): string {
  const pieces: { start: number; end: number; html: string }[] = [];
  for (const match of text.matchAll(MENTION_RE)) {
    const target = targets.mentions.get(handleKey(match[1]!, match[2] ?? null));
    if (!target) continue;
    pieces.push({
      start: match.index!,
      end: match.index! + match[0].length,
      html: `<span class="h-card" translate="no"><a href="${escapeHtml(target.url)}" class="u-url mention">@<span>${escapeHtml(target.username)}</span></a></span>`,
    });
  }
  for (const match of text.matchAll(HASHTAG_RE)) {
    const start = match.index!;
    if (pieces.some((p) => start >= p.start && start < p.end)) continue;
    const tag = match[1]!;
    pieces.push({
      start,
      end: start + match[0].length,
      html: `<a href="${escapeHtml(`${targets.baseUrl}/tags/${encodeURIComponent(tag)}`)}" class="mention hashtag" rel="tag">#<span>${escapeHtml(tag)}</span></a>`,
    });
  }
  pieces.sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const piece of pieces) {
    out += escapeHtml(text.slice(at, piece.start)) + piece.html;
    at = piece.end;
  }
  return out + escapeHtml(text.slice(at));
}

/** The HTML of a status: paragraphs, line breaks, linked URLs, mentions and hashtags. */
export function statusHtml(text: string, targets: LinkTargets): string {
  return plainToHtml(text, { renderText: (run) => renderEntities(run, targets) });
}
