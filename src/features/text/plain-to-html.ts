/**
 * Plain text people type (profile notes, field values, later statuses) → the HTML Mastodon serves.
 * Mirrors Mastodon's TextFormatter: escape everything, link http(s) URLs, then (multiline) wrap paragraphs
 * split on blank lines in <p> and turn single newlines into <br />. Links carry Mastodon's markup, whose
 * `invisible` / `ellipsis` spans let clients show a short form of long URLs while copying the full one:
 *
 *   <a href="https://example.com/a" target="_blank" rel="nofollow noopener" translate="no">
 *     <span class="invisible">https://</span><span class="">example.com/a</span><span class="invisible"></span></a>
 *
 * Pure and synchronous; the output is safe to embed (no raw input reaches it unescaped).
 */
import { find } from "linkifyjs";

export interface PlainToHtmlOptions {
  /** Paragraphs and line breaks (notes, statuses). Field values are single-line: false. */
  multiline?: boolean;
  /** Add rel="me" to links (profile field values, so rel=me verification can work both ways). */
  relMe?: boolean;
  /** Renders the text between URLs (must escape it); statuses use it for mentions and hashtags. */
  renderText?: (text: string) => string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Mastodon hides the scheme (and www.) and shows at most 30 characters of the rest. */
const URL_PREFIX = /^(https?:\/\/(www\.)?)/i;
const DISPLAY_LIMIT = 30;

function linkHtml(url: string, relMe: boolean): string {
  const prefix = URL_PREFIX.exec(url)?.[1] ?? "";
  const rest = [...url.slice(prefix.length)]; // code points, as Ruby counts characters
  let display = rest.slice(0, DISPLAY_LIMIT).join("");
  let suffix = rest.slice(DISPLAY_LIMIT).join("");
  // Truncating a single character would save nothing once the ellipsis is drawn: show it whole.
  if ([...suffix].length === 1) {
    display += suffix;
    suffix = "";
  }
  const rel = relMe ? "nofollow noopener me" : "nofollow noopener";
  return (
    `<a href="${escapeHtml(url)}" target="_blank" rel="${rel}" translate="no">` +
    `<span class="invisible">${escapeHtml(prefix)}</span>` +
    `<span class="${suffix ? "ellipsis" : ""}">${escapeHtml(display)}</span>` +
    `<span class="invisible">${escapeHtml(suffix)}</span></a>`
  );
}

/** Escape `text` and turn its http(s) URLs into links. Bare domains ("example.com") stay text, as in Mastodon. */
function linkify(text: string, relMe: boolean, renderText: (text: string) => string = escapeHtml): string {
  let out = "";
  let at = 0;
  for (const link of find(text, "url")) {
    if (!/^https?:\/\//i.test(link.value)) continue;
    out += renderText(text.slice(at, link.start)) + linkHtml(link.value, relMe);
    at = link.end;
  }
  return out + renderText(text.slice(at));
}

export function plainToHtml(text: string, options: PlainToHtmlOptions = {}): string {
  const normalised = text.replace(/\r\n?/g, "\n");
  if (normalised.trim() === "") return "";
  const multiline = options.multiline ?? true;
  if (!multiline) return linkify(normalised.replace(/\n+/g, " "), options.relMe ?? false, options.renderText);
  return normalised
    .split(/\n{2,}/)
    .map((paragraph) => paragraph.replace(/^\n+|\n+$/g, ""))
    .filter((paragraph) => paragraph.trim() !== "")
    .map((paragraph) => `<p>${linkify(paragraph, options.relMe ?? false, options.renderText).replace(/\n/g, "<br />")}</p>`)
    .join("");
}
