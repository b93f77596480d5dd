/**
 * Remote HTML turned into plain text, for the parts of a remote profile we keep as text (display name, note,
 * field names and values). Line breaks and paragraphs become newlines; everything else of the markup goes
 * through the sanitiser's text-only pass (sanitize.ts: script / style content dropped, entities decoded). The
 * result is stored as plain text and escaped again when rendered (the account entity turns notes into HTML
 * with plainToHtml), so a remote profile can never inject markup, scripts or styles into our pages or API.
 */
import { htmlToText } from "./sanitize";

export function htmlToPlainText(html: string, maxLength = 5000): string {
  const broken = html
    .slice(0, maxLength * 4)
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p\s*>\s*<p\b[^>]*>/gi, "\n\n");
  return htmlToText(broken)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "")
    .trim()
    .slice(0, maxLength);
}
