/**
 * Link preview parsing without I/O: which link of a post gets a card, charset detection, OpenGraph /
 * Twitter / <title> fallbacks, oEmbed discovery and folding, Cache-Control → reuse time.
 */
import { describe, expect, test } from "bun:test";
import {
  applyOEmbed,
  CARD_DEFAULT_TTL_SECONDS,
  CARD_MIN_TTL_SECONDS,
  cardTtlSeconds,
  decodePage,
  firstCardLink,
  normaliseUrl,
  pageCharset,
  parsePage,
} from "../../src/features/cards/parse";

const LOCAL = "https://woolly.test";

describe("firstCardLink", () => {
  test("skips mentions, hashtags, local links and non-http links; takes the first real one", () => {
    const html =
      `<p><span class="h-card"><a href="https://remote.example/@bob" class="u-url mention">@<span>bob</span></a></span> ` +
      `<a href="https://woolly.test/tags/cats" class="mention hashtag" rel="tag">#<span>cats</span></a> ` +
      `<a href="https://woolly.test/@alice/1">local</a> <a href="mailto:x@example.com">mail</a> ` +
      `<a href="javascript:alert(1)">js</a> <a href="https://news.example/a?b=1#top" rel="nofollow noopener">news</a> ` +
      `<a href="https://second.example/">second</a></p>`;
    expect(firstCardLink(html, LOCAL)).toBe("https://news.example/a?b=1#top");
  });

  test("links inside a quoted post are not this post's", () => {
    const html = `<p class="quote-inline">RE: <a href="https://quoted.example/x">q</a></p><p><a href="https://mine.example/">m</a></p>`;
    expect(firstCardLink(html, LOCAL)).toBe("https://mine.example/");
  });

  test("a post without links has no card link", () => {
    expect(firstCardLink("<p>just words &amp; things</p>", LOCAL)).toBeUndefined();
  });
});

test("normaliseUrl drops the fragment and lower-cases the host", () => {
  expect(normaliseUrl("HTTPS://News.Example:443/a?b=1#top")).toBe("https://news.example/a?b=1");
  expect(normaliseUrl("ftp://x.example/")).toBeUndefined();
  expect(normaliseUrl("not a url")).toBeUndefined();
});

describe("charset", () => {
  const cyrillic = new Uint8Array([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]); // "Привет" in windows-1251

  test("from the Content-Type header", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("<title>"), ...cyrillic, ...new TextEncoder().encode("</title>")]);
    expect(pageCharset(bytes, "text/html; charset=windows-1251")).toBe("windows-1251");
    expect(parsePage(decodePage(bytes, "text/html; charset=windows-1251"), "https://ru.example/")?.card.title).toBe("Привет");
  });

  test("from <meta charset> and <meta http-equiv> when the header has none", () => {
    const withMeta = new Uint8Array([...new TextEncoder().encode('<html><head><meta charset="windows-1251"><title>'), ...cyrillic, ...new TextEncoder().encode("</title>")]);
    expect(parsePage(decodePage(withMeta, "text/html"), "https://ru.example/")?.card.title).toBe("Привет");
    const latin = new Uint8Array([
      ...new TextEncoder().encode('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><title>Caf'),
      0xe9,
      ...new TextEncoder().encode(" cr"),
      0xe8,
      ...new TextEncoder().encode("me</title>"),
    ]);
    expect(parsePage(decodePage(latin, null), "https://fr.example/")?.card.title).toBe("Café crème");
  });

  test("an unknown charset label falls back to UTF-8", () => {
    const bytes = new TextEncoder().encode("<title>ünïcode</title>");
    expect(pageCharset(bytes, "text/html; charset=made-up-9")).toBe("utf-8");
    expect(parsePage(decodePage(bytes, "text/html; charset=made-up-9"), "https://x.example/")?.card.title).toBe("ünïcode");
  });
});

describe("parsePage", () => {
  test("OpenGraph wins over Twitter and <title>; relative images resolve; entities decode", () => {
    const html = `<!doctype html><html lang="en-GB"><head><title>Plain title</title>
      <meta property="og:title" content="OG &amp; title"><meta name="twitter:title" content="Twitter title">
      <meta property="og:description" content="  An   article  "><meta property="og:image" content="/img/a.png">
      <meta property="og:image:width" content="1200"><meta property="og:image:height" content="630">
      <meta property="og:site_name" content="News"><meta property="og:image:alt" content="A picture">
      <meta property="article:published_time" content="2024-05-01T10:00:00Z">
      <link rel="alternate" type="application/json+oembed" href="/oembed?url=x"></head><body><title>not this</title></body></html>`;
    const facts = parsePage(html, "https://news.example/story")!;
    expect(facts.card).toMatchObject({
      url: "https://news.example/story",
      title: "OG & title",
      description: "An article",
      imageUrl: "https://news.example/img/a.png",
      width: 1200,
      height: 630,
      providerName: "News",
      imageDescription: "A picture",
      language: "en",
      type: "link",
    });
    expect(facts.card.publishedAt?.toISOString()).toBe("2024-05-01T10:00:00.000Z");
    expect(facts.oembedUrl).toBe("https://news.example/oembed?url=x");
  });

  test("falls back to twitter:* then <title> and meta description", () => {
    expect(parsePage(`<meta name="twitter:title" content="T"><title>P</title>`, "https://a.example/")!.card.title).toBe("T");
    const plain = parsePage(`<title> Plain </title><meta name="description" content="D">`, "https://a.example/")!.card;
    expect([plain.title, plain.description, plain.imageUrl]).toEqual(["Plain", "D", null]);
  });

  test("og:url on another host is not trusted; javascript: images are dropped; XML oEmbed is ignored", () => {
    const html = `<meta property="og:title" content="x"><meta property="og:url" content="https://bank.example/login">
      <meta property="og:image" content="javascript:alert(1)"><link rel="alternate" type="text/xml+oembed" href="/o.xml">`;
    const facts = parsePage(html, "https://a.example/page")!;
    expect(facts.card.url).toBe("https://a.example/page");
    expect(facts.card.imageUrl).toBeNull();
    expect(facts.oembedUrl).toBeUndefined();
  });

  test("a page with no title gives no card; huge strings are bounded", () => {
    expect(parsePage("<p>nothing</p>", "https://a.example/")).toBeUndefined();
    const card = parsePage(`<meta property="og:title" content="${"t".repeat(5000)}"><meta property="og:description" content="${"d".repeat(9000)}">`, "https://a.example/")!.card;
    expect(card.title.length).toBe(250);
    expect(card.description.length).toBe(1000);
  });
});

test("applyOEmbed takes link / photo / video data and refuses rich", () => {
  const base = parsePage(`<meta property="og:title" content="Page">`, "https://v.example/w")!.card;
  const video = applyOEmbed(base, { type: "video", title: "Clip", author_name: "Ann", author_url: "https://v.example/ann", provider_name: "V", thumbnail_url: "https://v.example/t.jpg", html: "<iframe>" }, "https://v.example/w");
  expect(video).toMatchObject({ title: "Clip", authorName: "Ann", authorUrl: "https://v.example/ann", providerName: "V", imageUrl: "https://v.example/t.jpg", html: "" });
  const photo = applyOEmbed(base, { type: "photo", url: "https://v.example/p.jpg", width: 640, height: 480 }, "https://v.example/w");
  expect(photo).toMatchObject({ type: "photo", imageUrl: "https://v.example/p.jpg", width: 640, height: 480 });
  expect(applyOEmbed(base, { type: "rich", title: "Script", html: "<script>" }, "https://v.example/w")).toEqual(base);
  expect(applyOEmbed(base, ["not", "an", "object"], "https://v.example/w")).toEqual(base);
});

test("Cache-Control decides how long a card is reused, within bounds", () => {
  expect(cardTtlSeconds(null)).toBe(CARD_DEFAULT_TTL_SECONDS);
  expect(cardTtlSeconds("public, max-age=7200")).toBe(7200);
  expect(cardTtlSeconds("max-age=60")).toBe(CARD_MIN_TTL_SECONDS);
  expect(cardTtlSeconds("max-age=99999999")).toBe(CARD_DEFAULT_TTL_SECONDS);
  expect(cardTtlSeconds("no-store")).toBe(CARD_MIN_TTL_SECONDS);
  expect(cardTtlSeconds("max-age=100000, s-maxage=20000")).toBe(20000);
});
