/**
 * Remote HTML turned into plain text. Until an HTML sanitiser with Mastodon's allow-list is in the
 * dependencies, nothing of a remote profile's markup is kept: tags are dropped (their text kept), line
 * breaks and paragraphs become newlines, and entities are decoded. The result is stored as plain text and
 * escaped again when rendered (the account entity turns notes into HTML with plainToHtml), so a remote
 * profile can never inject markup, scripts or styles into our pages or API.
 */
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, entity: string) => {
    if (entity[0] === "#") {
      const code = entity[1] === "x" || entity[1] === "X" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "";
    }
    return NAMED[entity.toLowerCase()] ?? whole;
  });
}

export function htmlToPlainText(html: string, maxLength = 5000): string {
  const text = html
    .slice(0, maxLength * 4)
    // Whole elements whose content is never text for people.
    .replace(/<(script|style|template|iframe|object)\b[\s\S]*?<\/\1\s*>/gi, "")
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/p\s*>\s*<p\b[^>]*>/gi, "\n\n")
    .replace(/<[^>]*>/g, "")
    // A stray "<" without a closing ">" is left; it is text, escaped when rendered.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "");
  return decodeEntities(text).trim().slice(0, maxLength);
}
