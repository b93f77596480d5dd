/**
 * The search box's little language (Mastodon's SearchQueryParser, simplified): words, "quoted phrases",
 * -negated words, and operators — from:@user[@domain] (or from:me), has:media|poll|link|image|video|audio,
 * is:reply|sensitive, language:xx, before: / after: / during:YYYY-MM-DD, in:library|all — each operator
 * negatable with a leading "-". What is not an operator is handed back as one string of words, phrases and
 * negations, which Postgres reads with websearch_to_tsquery: that function accepts any text without error,
 * so no input can produce a tsquery syntax error, and every value reaches SQL as a parameter.
 */
import { ApiError } from "../../infra/errors";

export type HasFilter = "media" | "poll" | "link" | "image" | "video" | "audio";
export type IsFilter = "reply" | "sensitive";

export interface AuthorRef {
  username: string;
  /** undefined: local (or written without a domain). */
  domain?: string;
  /** from:me */
  me?: boolean;
}

export interface ParsedQuery {
  /** Words, phrases and negations for websearch_to_tsquery; "" when the query is operators only. */
  text: string;
  /** How many words or phrases are not negated: a query of negations only cannot use the index. */
  positiveTerms: number;
  from: { ref: AuthorRef; negated: boolean }[];
  has: { value: HasFilter; negated: boolean }[];
  is: { value: IsFilter; negated: boolean }[];
  language?: string;
  /** created_at bounds, UTC: before = strictly earlier than that day, after = strictly later than that day. */
  before?: Date;
  after?: Date;
  /** in:library — only the viewer's own posts and those they interacted with. */
  libraryOnly: boolean;
}

const HAS: readonly HasFilter[] = ["media", "poll", "link", "image", "video", "audio"];
const IS: readonly IsFilter[] = ["reply", "sensitive"];
const OPERATORS = new Set(["from", "has", "is", "language", "before", "after", "during", "in"]);
const DAY_MS = 24 * 3600 * 1000;

/** Tokens: an optional "-", then a "quoted phrase" or a run of non-space characters (which may hold "key:"). */
const TOKEN = /(-?)(?:"([^"]*)"?|(\S+))/g;

function day(value: string, operator: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw ApiError.unprocessable(`Invalid date for ${operator}: expected YYYY-MM-DD`);
  }
  return date;
}

function author(value: string): AuthorRef {
  if (value.toLowerCase() === "me") return { username: "", me: true };
  const parts = value.replace(/^@/, "").split("@");
  if (parts.length > 2 || !parts[0] || !/^[\w.-]{1,64}$/.test(parts[0]) || (parts[1] !== undefined && !/^[\w.:-]{1,253}$/.test(parts[1]))) {
    throw ApiError.unprocessable("Invalid account for from: expected from:@username or from:@username@domain");
  }
  return { username: parts[0], domain: parts[1]?.toLowerCase() };
}

export function parseQuery(q: string): ParsedQuery {
  const parsed: ParsedQuery = { text: "", positiveTerms: 0, from: [], has: [], is: [], libraryOnly: false };
  const words: string[] = [];
  for (const match of q.matchAll(TOKEN)) {
    const negated = match[1] === "-";
    const phrase = match[2];
    const bare = match[3];
    if (phrase !== undefined) {
      // A phrase is passed on quoted; inner quotes cannot occur (the token ends at the next quote).
      if (phrase.trim()) words.push(`${negated ? "-" : ""}"${phrase}"`);
      if (phrase.trim() && !negated) parsed.positiveTerms++;
      continue;
    }
    const colon = bare!.indexOf(":");
    const key = colon > 0 ? bare!.slice(0, colon).toLowerCase() : "";
    const value = colon > 0 ? bare!.slice(colon + 1) : "";
    if (!OPERATORS.has(key) || value === "") {
      // Not an operator (a URL, "note:", a word): plain text. websearch_to_tsquery copes with anything.
      words.push(`${negated ? "-" : ""}${bare}`);
      if (!negated && bare!.toLowerCase() !== "or" && /[\p{L}\p{N}]/u.test(bare!)) parsed.positiveTerms++;
      continue;
    }
    switch (key) {
      case "from":
        parsed.from.push({ ref: author(value), negated });
        break;
      case "has": {
        const v = value.toLowerCase() as HasFilter;
        if (!HAS.includes(v)) throw ApiError.unprocessable(`Unknown value for has: ${value.slice(0, 40)}`);
        parsed.has.push({ value: v, negated });
        break;
      }
      case "is": {
        const v = value.toLowerCase() as IsFilter;
        if (!IS.includes(v)) throw ApiError.unprocessable(`Unknown value for is: ${value.slice(0, 40)}`);
        parsed.is.push({ value: v, negated });
        break;
      }
      case "language": {
        const v = value.toLowerCase();
        if (!/^[a-z]{2,3}$/.test(v)) throw ApiError.unprocessable("Invalid language: expected an ISO 639 code");
        parsed.language = v;
        break;
      }
      case "before":
        parsed.before = day(value, "before");
        break;
      case "after":
        parsed.after = new Date(day(value, "after").getTime() + DAY_MS);
        break;
      case "during": {
        const start = day(value, "during");
        parsed.after = start;
        parsed.before = new Date(start.getTime() + DAY_MS);
        break;
      }
      case "in": {
        const v = value.toLowerCase();
        if (v !== "library" && v !== "all" && v !== "public") throw ApiError.unprocessable(`Unknown value for in: ${value.slice(0, 40)}`);
        parsed.libraryOnly = v === "library";
        break;
      }
    }
  }
  parsed.text = words.join(" ");
  return parsed;
}

/**
 * Whether the query can be answered from an index: it has words (the full-text index), or names an author
 * (the per-account index). Operators alone (has:media, language:xx…) would walk every public post, so such a
 * query finds nothing — a bound on the work one request can cause.
 */
export function isAnswerable(parsed: ParsedQuery): boolean {
  return parsed.positiveTerms > 0 || parsed.from.some((f) => !f.negated);
}
