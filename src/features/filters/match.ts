/**
 * Matching statuses against a viewer's filters, as Mastodon does (CustomFilter#compile_keywords and
 * StatusFilter): case-insensitive; a whole-word keyword is bounded by word boundaries on the sides where it
 * starts or ends with a word character (Unicode letters and digits, as Ruby's [[:word:]]); the text searched
 * is the spoiler text, the content as plain text, the media descriptions and the poll options. A status also
 * matches a filter that lists it by id. The author's own statuses are never filtered.
 *
 * Filters are compiled once per account (cache.ts) and applied to rendered Status JSON, so this runs on every
 * timeline page: the per-status work is one regex test per filter, on text built lazily once per status.
 */
import type { FilterAction, FullFilter } from "./store";

export const FILTER_CONTEXTS = ["home", "notifications", "public", "thread", "account"] as const;
export type FilterContext = (typeof FILTER_CONTEXTS)[number];

export interface CompiledKeyword {
  keyword: string;
  regex: RegExp;
}

export interface CompiledFilter {
  /** The stored filter, for rendering the Filter entity inside a FilterResult. */
  filter: FullFilter;
  contexts: Set<string>;
  action: FilterAction;
  expiresAt: number | null;
  keywords: CompiledKeyword[];
  /** Any keyword, one alternation: the common case (no match) costs one test. */
  anyKeyword: RegExp | null;
  statusIds: Set<string>;
}

/** What `filtered` needs for one status: the filter, the keywords that matched, the listed status ids that matched. */
export interface FilterMatch {
  filter: CompiledFilter;
  keywordMatches: string[] | null;
  statusMatches: string[] | null;
}

/** The fields of a rendered Status the matching reads. */
export interface FilterableStatus {
  id: string;
  account: { id: string };
  content: string;
  spoiler_text: string;
  media_attachments: { description?: string | null }[];
  poll: { options: { title: string }[] } | null;
  reblog: FilterableStatus | null;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
const WORD = /^[\p{L}\p{N}_]/u;
const WORD_END = /[\p{L}\p{N}_]$/u;

function keywordSource(keyword: string, wholeWord: boolean): string {
  const body = escape(keyword);
  if (!wholeWord) return body;
  const start = WORD.test(keyword) ? "(?<![\\p{L}\\p{N}_])" : "";
  const end = WORD_END.test(keyword) ? "(?![\\p{L}\\p{N}_])" : "";
  return `${start}${body}${end}`;
}

export function compileFilters(filters: FullFilter[]): CompiledFilter[] {
  return filters.map((filter) => {
    const keywords = filter.keywords.map((k) => ({ keyword: k.keyword, regex: new RegExp(keywordSource(k.keyword, k.whole_word), "iu") }));
    return {
      filter,
      contexts: new Set(filter.context),
      action: filter.filter_action,
      expiresAt: filter.expires_at ? filter.expires_at.getTime() : null,
      keywords,
      anyKeyword: keywords.length > 0 ? new RegExp(filter.keywords.map((k) => keywordSource(k.keyword, k.whole_word)).join("|"), "iu") : null,
      statusIds: new Set(filter.statuses.map((s) => s.status_id)),
    };
  });
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Our content is sanitised HTML: tags out (paragraphs and breaks as newlines), entities decoded. */
export function contentText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p>/gi, "\n\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, name: string) => {
      if (name[0] === "#") {
        const code = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

export function searchableText(status: FilterableStatus): string {
  const parts = [status.spoiler_text, contentText(status.content)];
  const descriptions = status.media_attachments.map((m) => m.description ?? "").filter((d) => d !== "");
  if (descriptions.length > 0) parts.push(descriptions.join("\n\n"));
  if (status.poll) parts.push(status.poll.options.map((o) => o.title).join("\n\n"));
  return parts.filter((p) => p !== "").join("\n\n");
}

/** The filters active now in `context`; an empty list means nothing to do for this viewer here. */
export function activeIn(compiled: CompiledFilter[], context: FilterContext, now = Date.now()): CompiledFilter[] {
  return compiled.filter((f) => f.contexts.has(context) && (f.expiresAt === null || f.expiresAt > now));
}

/**
 * The matches of one status (its boosted original when it is a boost) against filters already narrowed by
 * `activeIn`. The viewer's own statuses never match.
 */
export function matchStatus(active: CompiledFilter[], status: FilterableStatus, viewerId: string): FilterMatch[] {
  const proper = status.reblog ?? status;
  if (active.length === 0 || proper.account.id === viewerId) return [];
  let text: string | undefined;
  const out: FilterMatch[] = [];
  for (const filter of active) {
    let keywordMatches: string[] | null = null;
    if (filter.anyKeyword) {
      text ??= searchableText(proper);
      if (filter.anyKeyword.test(text)) keywordMatches = filter.keywords.filter((k) => k.regex.test(text!)).map((k) => k.keyword);
    }
    const statusMatches = filter.statusIds.has(proper.id) ? [proper.id] : null;
    if (keywordMatches || statusMatches) out.push({ filter, keywordMatches, statusMatches });
  }
  return out;
}
