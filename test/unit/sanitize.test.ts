import { describe, expect, test } from "bun:test";
import { htmlToText, sanitizeRemoteHtml } from "../../src/features/federation/sanitize";

describe("sanitizeRemoteHtml (Mastodon's allow-list)", () => {
  test("keeps the allowed markup and Mastodon's mention / hashtag microformats", () => {
    const html =
      '<p>Hi <span class="h-card"><a href="https://example.com/@bob" class="u-url mention">@<span>bob</span></a></span> ' +
      '<a href="https://example.com/tags/woolly" class="mention hashtag" rel="tag">#<span>woolly</span></a></p>' +
      "<p><strong>b</strong> <em>e</em> <del>d</del> <code>c</code><br>x</p><blockquote><ul><li>1</li></ul><ol><li>2</li></ol></blockquote><pre>p</pre>";
    expect(sanitizeRemoteHtml(html)).toBe(
      '<p>Hi <span class="h-card"><a href="https://example.com/@bob" class="u-url mention" rel="nofollow noopener" target="_blank">@<span>bob</span></a></span> ' +
        '<a href="https://example.com/tags/woolly" class="mention hashtag" rel="nofollow noopener" target="_blank">#<span>woolly</span></a></p>' +
        "<p><strong>b</strong> <em>e</em> <del>d</del> <code>c</code><br />x</p><blockquote><ul><li>1</li></ul><ol><li>2</li></ol></blockquote><pre>p</pre>",
    );
  });

  test("script and style go with their content; other tags go with their text kept", () => {
    const out = sanitizeRemoteHtml('<p>a<script>alert(1)</script><style>p{color:red}</style><img src="x" onerror="alert(1)"><font>font</font><iframe src="https://evil">f</iframe></p><h1>title</h1><div>div</div>');
    expect(out).toBe("<p>afont</p>titlediv");
  });

  test("event handlers, styles, ids and unknown classes are stripped", () => {
    const out = sanitizeRemoteHtml('<p onclick="x()" style="color:red" id="i" class="evil">t <span class="invisible other" onmouseover="y()">s</span></p>');
    expect(out).toBe('<p>t <span class="invisible">s</span></p>');
    expect(out).not.toContain("on");
  });

  test("javascript:, data:, relative and protocol-relative links lose their href (text kept in a span)", () => {
    for (const href of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<script>1</script>", "/relative", "//evil.example/x", "vbscript:x"]) {
      const out = sanitizeRemoteHtml(`<a href="${href}">click</a>`);
      expect(out).toBe("<span>click</span>");
    }
    expect(sanitizeRemoteHtml('<a href="javascript&#58;alert(1)">x</a>')).toBe("<span>x</span>");
  });

  test("the other protocols Mastodon links survive, with rel and target forced", () => {
    for (const href of ["gemini://g.example/", "xmpp:bob@example.com", "magnet:?xt=urn:btih:abc", "ipfs://Qm", "http://example.com/"]) {
      expect(sanitizeRemoteHtml(`<a href="${href}" rel="me" target="_self">x</a>`)).toBe(`<a href="${href.replace(/&/g, "&amp;")}" rel="nofollow noopener" target="_blank">x</a>`);
    }
  });

  test("unclosed and misnested tags are closed; stray brackets are escaped text", () => {
    expect(sanitizeRemoteHtml("<p><strong>bold <em>both</p> after")).toBe("<p><strong>bold <em>both</em></strong></p> after");
    expect(sanitizeRemoteHtml("a < b > c & d")).toBe("a &lt; b &gt; c &amp; d");
    expect(sanitizeRemoteHtml('<p title="x"">">q</p>')).not.toContain('title');
  });

  test("a megabyte of nesting is handled in bounded time", () => {
    const nested = "<span>".repeat(80_000) + "x<script>y</script>" + "</span>".repeat(80_000);
    expect(nested.length).toBeGreaterThan(1_000_000);
    const started = performance.now();
    const out = sanitizeRemoteHtml(nested);
    expect(performance.now() - started).toBeLessThan(500);
    expect(out).toBe("<p>xy</p>");
    // Just under the tag limit, the real parser runs, still quickly.
    const t1 = performance.now();
    expect(sanitizeRemoteHtml("<em>".repeat(2400) + "z" + "</em>".repeat(2400))).toContain("z</em>");
    expect(performance.now() - t1).toBeLessThan(1000);
    // Beyond the cap the input is cut, not parsed.
    const huge = "<b>".repeat(600_000);
    const t2 = performance.now();
    expect(sanitizeRemoteHtml(huge)).toBe("<p></p>");
    expect(performance.now() - t2).toBeLessThan(500);
    expect(sanitizeRemoteHtml("<b>" + "&lt;".repeat(10) + "<".repeat(6000))).not.toContain("<b");
  });
});

describe("htmlToText", () => {
  test("drops all markup, keeps text, decodes entities", () => {
    expect(htmlToText('<p>Tom &amp; <b>Jerry</b><script>alert(1)</script> &lt;3</p>')).toBe("Tom & Jerry <3");
  });
});
