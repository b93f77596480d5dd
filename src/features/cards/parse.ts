/**
 * Link preview parsing, free of I/O: which link of a post gets a card (Mastodon's FetchLinkCardService rules),
 * how a fetched page's bytes are decoded (charset from the header, else from <meta>), and what OpenGraph,
 * Twitter and oEmbed-discovery data the page carries. A real HTML parser (htmlparser2), never regexes over
 * markup; every string is bounded so a hostile page cannot bloat the row.
 */
import { Parser } from "htmlparser2";

export type CardType = "link" | "photo" | "video" | "rich";

/** What a card holds before it is stored. */
export interface CardData {
  url: string;
  title: string;
  description: string;
  type: CardType;
  authorName: string;
  authorUrl: string;
  providerName: string;
  providerUrl: string;
  html: string;
  width: number;
  height: number;
  imageUrl: string | null;
  imageDescription: string;
  embedUrl: string;
  language: string | null;
  publishedAt: Date | null;
}

export const LIMITS = { title: 250, description: 1000, name: 250, url: 2048 } as const;

function clip(text: string | undefined, max: number): string {
  return (text ?? "").replace(/\s+/g, " ").trim().slice(0, max);
}

/** An absolute http(s) URL no longer than the limit, resolved against base; else undefined. */
export function httpUrl(text: string | undefined, base?: string): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text.trim(), base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    if (url.username || url.password) return undefined;
    return url.href.length <= LIMITS.url ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key a card is stored under: the URL without its fragment (a #section links the same page), with the
 * host lower-cased and default ports dropped by the WHATWG parser.
 */
export function normaliseUrl(text: string): string | undefined {
  const href = httpUrl(text);
  if (!href) return undefined;
  const url = new URL(href);
  url.hash = "";
  return url.href;
}

/**
 * The first link of a post's HTML that deserves a card: not a mention (class u-url / h-card, or mention),
 * not a hashtag (rel=tag), not a link to this instance, http(s) only. Links inside a quote-inline block are
 * the quoted post's, not this one's.
 */
export function firstCardLink(html: string, localBaseUrl: string): string | undefined {
  const localHost = new URL(localBaseUrl).host.toLowerCase();
  let found: string | undefined;
  let quoteDepth = 0;
  const stack: boolean[] = [];
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        const isQuote = /\bquote-inline\b/.test(attrs.class ?? "");
        stack.push(isQuote);
        if (isQuote) quoteDepth++;
        if (found || name !== "a" || quoteDepth > 0) return;
        const rel = (attrs.rel ?? "").toLowerCase().split(/\s+/);
        const classes = attrs.class ?? "";
        if (rel.includes("tag") || /\b(u-url|h-card|mention|hashtag)\b/.test(classes)) return;
        const href = httpUrl(attrs.href);
        if (!href) return;
        if (new URL(href).host.toLowerCase() === localHost) return;
        found = href;
      },
      onclosetag() {
        if (stack.pop()) quoteDepth--;
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return found;
}

/** Which encoding the page is in: the Content-Type charset, else a <meta> charset in the first 1024 bytes. */
export function pageCharset(bytes: Uint8Array, contentType: string | null): string {
  const fromHeader = /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentType ?? "")?.[1];
  if (fromHeader && isKnownEncoding(fromHeader)) return fromHeader;
  // A UTF-8 byte order mark wins over a <meta> (as in the HTML encoding sniffing algorithm).
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  let fromMeta: string | undefined;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (fromMeta || name !== "meta") return;
      if (attrs.charset) fromMeta = attrs.charset.trim();
      else if ((attrs["http-equiv"] ?? "").toLowerCase() === "content-type") fromMeta = /charset\s*=\s*["']?([\w.:-]+)/i.exec(attrs.content ?? "")?.[1];
    },
  });
  parser.write(head);
  parser.end();
  return fromMeta && isKnownEncoding(fromMeta) ? fromMeta : "utf-8";
}

function isKnownEncoding(label: string): boolean {
  try {
    new TextDecoder(label as "utf-8");
    return true;
  } catch {
    return false;
  }
}

export function decodePage(bytes: Uint8Array, contentType: string | null): string {
  return new TextDecoder(pageCharset(bytes, contentType) as "utf-8").decode(bytes);
}

/** What a page says about itself: OpenGraph / Twitter / plain meta, and the oEmbed JSON endpoint it points at. */
export interface PageFacts {
  card: CardData;
  /** `<link rel="alternate" type="application/json+oembed" href=…>`, if any (JSON only, never XML). */
  oembedUrl?: string;
}

/**
 * Parse a page's HTML into card data. og:* wins over twitter:* over plain <title> / description; the card's
 * url is the page's own (og:url is trusted only on the same host, so a page cannot pass itself off as
 * another site's). Returns undefined when the page gives nothing to show (no title).
 */
export function parsePage(html: string, pageUrl: string): PageFacts | undefined {
  const meta = new Map<string, string>();
  let title = "";
  let inTitle = false;
  let htmlLang: string | undefined;
  let oembedUrl: string | undefined;
  let inBody = false;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === "body") inBody = true;
        if (name === "html" && attrs.lang) htmlLang = attrs.lang;
        if (name === "title" && !inBody && !title) inTitle = true;
        if (name === "meta") {
          const key = (attrs.property ?? attrs.name ?? "").toLowerCase().trim();
          if (key && attrs.content !== undefined && !meta.has(key) && meta.size < 200) meta.set(key, attrs.content.slice(0, 4096));
        }
        if (name === "link" && !oembedUrl && (attrs.type ?? "").toLowerCase() === "application/json+oembed") {
          oembedUrl = httpUrl(attrs.href, pageUrl);
        }
      },
      ontext(text) {
        if (inTitle && title.length < 1000) title += text;
      },
      onclosetag(name) {
        if (name === "title") inTitle = false;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();

  const pick = (...keys: string[]) => keys.map((k) => meta.get(k)?.trim()).find((value) => value);
  const cardTitle = clip(pick("og:title", "twitter:title") ?? title, LIMITS.title);
  if (!cardTitle) return undefined;
  const page = new URL(pageUrl);
  const ogUrl = httpUrl(pick("og:url"), pageUrl);
  const url = ogUrl && new URL(ogUrl).host === page.host ? ogUrl : pageUrl;
  const image = httpUrl(pick("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"), pageUrl) ?? null;
  const published = pick("article:published_time", "og:article:published_time");
  const publishedAt = published && !Number.isNaN(Date.parse(published)) ? new Date(published) : null;
  const language = clip(pick("og:locale") ?? htmlLang, 16).replace(/[-_].*$/, "").toLowerCase() || null;
  const card: CardData = {
    url,
    title: cardTitle,
    description: clip(pick("og:description", "twitter:description", "description"), LIMITS.description),
    type: "link",
    authorName: clip(pick("article:author", "author", "twitter:creator"), LIMITS.name),
    authorUrl: "",
    providerName: clip(pick("og:site_name"), LIMITS.name),
    providerUrl: "",
    html: "",
    width: boundedInt(pick("og:image:width")),
    height: boundedInt(pick("og:image:height")),
    imageUrl: image,
    imageDescription: clip(pick("og:image:alt", "twitter:image:alt"), LIMITS.description),
    embedUrl: "",
    language: language && /^[a-z]{2,3}$/.test(language) ? language : null,
    publishedAt,
  };
  // An author URL is only meaningful as a link.
  const authorUrl = httpUrl(pick("article:author"), pageUrl);
  if (authorUrl) {
    card.authorUrl = authorUrl;
    card.authorName = "";
  }
  return { card, oembedUrl };
}

function boundedInt(text: string | number | undefined): number {
  const n = typeof text === "number" ? text : Number.parseInt(text ?? "", 10);
  return Number.isFinite(n) && n > 0 && n < 100_000 ? Math.floor(n) : 0;
}

/**
 * Fold an oEmbed JSON answer into the card the page gave. Only `link`, `photo` and `video` are taken;
 * `rich` and video embed HTML are not stored (they are third-party scripts or iframes we would have to
 * sanitise and host: the card keeps the page's data instead, as Mastodon does for rich).
 */
export function applyOEmbed(card: CardData, json: unknown, pageUrl: string): CardData {
  if (!json || typeof json !== "object" || Array.isArray(json)) return card;
  const o = json as Record<string, unknown>;
  const str = (key: string) => (typeof o[key] === "string" ? (o[key] as string) : undefined);
  const type = str("type");
  if (type !== "link" && type !== "photo" && type !== "video") return card;
  const out: CardData = { ...card };
  out.title = clip(str("title"), LIMITS.title) || out.title;
  out.authorName = clip(str("author_name"), LIMITS.name) || out.authorName;
  out.authorUrl = httpUrl(str("author_url"), pageUrl) ?? out.authorUrl;
  out.providerName = clip(str("provider_name"), LIMITS.name) || out.providerName;
  out.providerUrl = httpUrl(str("provider_url"), pageUrl) ?? out.providerUrl;
  if (type === "photo") {
    const photo = httpUrl(str("url"), pageUrl);
    if (photo) {
      out.type = "photo";
      out.imageUrl = photo;
      out.width = boundedInt(o.width as number);
      out.height = boundedInt(o.height as number);
    }
  } else {
    const thumb = httpUrl(str("thumbnail_url"), pageUrl);
    if (thumb) out.imageUrl = thumb;
  }
  return out;
}

/**
 * How long a fetched card may be reused, from the page's Cache-Control: its max-age (or s-maxage), never
 * under an hour (no-store and tiny ages must not let every post refetch) and never over the default 14 days
 * (Mastodon refetches cards older than two weeks).
 */
export const CARD_DEFAULT_TTL_SECONDS = 14 * 24 * 3600;
export const CARD_MIN_TTL_SECONDS = 3600;

export function cardTtlSeconds(cacheControl: string | null): number {
  if (!cacheControl) return CARD_DEFAULT_TTL_SECONDS;
  const directives = cacheControl.toLowerCase();
  if (/\b(no-store|no-cache)\b/.test(directives)) return CARD_MIN_TTL_SECONDS;
  const age = /\bs-maxage\s*=\s*(\d+)/.exec(directives)?.[1] ?? /\bmax-age\s*=\s*(\d+)/.exec(directives)?.[1];
  if (age === undefined) return CARD_DEFAULT_TTL_SECONDS;
  return Math.min(CARD_DEFAULT_TTL_SECONDS, Math.max(CARD_MIN_TTL_SECONDS, Number(age)));
}
