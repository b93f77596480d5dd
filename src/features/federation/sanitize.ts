/**
 * Incoming HTML (a remote post's content) cut down to Mastodon's allow-list (Sanitize::Config::MASTODON_STRICT):
 * a few inline and block elements, links only to the protocols Mastodon links (everything else becomes a
 * plain span with its text), and only the microformat / mention classes clients style. Every other element
 * is dropped with its text kept, except those whose content is never text for people (script, style…),
 * which go entirely. The result is what we store and serve as `content`, so it must be safe to put in a page.
 *
 * Time: htmlparser2 is linear but costs several microseconds a tag, so input is capped before parsing and a
 * document with more tags than any real post (MAX_TAGS) is not parsed at all: its tags are dropped by one
 * linear pass and the text kept, escaped. A megabyte of nested tags costs milliseconds, not seconds.
 */
import sanitizeHtml from "sanitize-html";

export const ALLOWED_TAGS = ["p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote"];
export const LINK_PROTOCOLS = ["http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"];
const CLASSES = ["h-card", "u-url", "mention", "hashtag", "ellipsis", "invisible"];
/** Inputs beyond this are cut before parsing (callers bound content far lower: see remote-statuses.ts). */
export const MAX_SANITIZE_INPUT = 1024 * 1024;
/** More tags than this and the markup is not worth keeping (a 500-character post has a few dozen). */
export const MAX_TAGS = 5000;

function tagCount(html: string): number {
  let count = 0;
  for (let i = html.indexOf("<"); i !== -1; i = html.indexOf("<", i + 1)) count++;
  return count;
}

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The text of tag soup in one linear pass (no parsing), escaped. */
function flatten(html: string): string {
  return escapeText(html.replace(/<[^>]*>?/g, ""));
}

function linkable(href: string | undefined): boolean {
  if (!href) return false;
  // Absolute URLs only: a relative link would resolve against our own domain.
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(href.trim());
  return match !== null && LINK_PROTOCOLS.includes(match[1]!.toLowerCase());
}

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: { a: ["href", "rel", "target", "class"], span: ["class"] },
  allowedClasses: { a: CLASSES, span: CLASSES },
  allowedSchemes: LINK_PROTOCOLS,
  allowedSchemesAppliedToAttributes: ["href"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  nonTextTags: ["script", "style", "textarea", "option", "noscript", "template", "iframe", "object", "title", "head", "svg", "math"],
  transformTags: {
    a: (tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag => {
      if (!linkable(attribs.href)) {
        // Mastodon's UNSUPPORTED_HREF_TRANSFORMER: the text stays, the link goes.
        const kept: sanitizeHtml.Attributes = {};
        if (attribs.class) kept.class = attribs.class;
        return { tagName: "span", attribs: kept };
      }
      return { tagName, attribs: { ...attribs, rel: "nofollow noopener", target: "_blank" } };
    },
  },
};

/** Remote HTML → HTML safe to store and serve, on Mastodon's allow-list. */
export function sanitizeRemoteHtml(html: string): string {
  const input = html.length > MAX_SANITIZE_INPUT ? html.slice(0, MAX_SANITIZE_INPUT) : html;
  if (tagCount(input) > MAX_TAGS) return `<p>${flatten(input)}</p>`;
  return sanitizeHtml(input, OPTIONS);
}

/** Remote HTML → plain text (tags dropped, text kept, entities decoded), for names, summaries, alt text. */
export function htmlToText(html: string): string {
  const input = html.length > MAX_SANITIZE_INPUT ? html.slice(0, MAX_SANITIZE_INPUT) : html;
  if (tagCount(input) > MAX_TAGS) return input.replace(/<[^>]*>?/g, "");
  const text = sanitizeHtml(input, {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: OPTIONS.nonTextTags,
  });
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, "&");
}
