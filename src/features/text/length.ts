/**
 * How Mastodon counts text against a limit (NoteLengthValidator, StatusLengthValidator): grapheme clusters,
 * with every http(s) URL counting as 23 characters however long it is, so people are not punished for
 * long links. Shared by profile notes now and statuses later.
 */
import { find } from "linkifyjs";

export const CHARACTERS_RESERVED_PER_URL = 23;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function countGraphemes(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

/** Length of `text` as Mastodon counts it for notes and statuses. */
export function countableLength(text: string): number {
  let urlCount = 0;
  let rest = "";
  let at = 0;
  for (const link of find(text, "url")) {
    if (!/^https?:\/\//i.test(link.value)) continue;
    rest += text.slice(at, link.start);
    at = link.end;
    urlCount++;
  }
  rest += text.slice(at);
  return countGraphemes(rest) + urlCount * CHARACTERS_RESERVED_PER_URL;
}

/** Code points, as Ruby's String#length counts (display names, field names and values). */
export function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
