/** Plain text → Mastodon-style HTML: escaping, paragraphs, line breaks and links. */
import { describe, expect, test } from "bun:test";
import { escapeHtml, plainToHtml } from "../../src/features/text/plain-to-html";

describe("plainToHtml", () => {
  test("blank text is an empty string, not an empty paragraph", () => {
    expect(plainToHtml("")).toBe("");
    expect(plainToHtml("  \n\n \r\n")).toBe("");
  });

  test("escapes every HTML-significant character", () => {
    expect(plainToHtml(`<script>alert("x")</script> & 'q'`)).toBe("<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;</p>");
    expect(escapeHtml(`<>&"'`)).toBe("&lt;&gt;&amp;&quot;&#39;");
  });

  test("blank lines make paragraphs, single newlines <br />, CRLF treated as LF", () => {
    expect(plainToHtml("one\ntwo\n\nthree")).toBe("<p>one<br />two</p><p>three</p>");
    expect(plainToHtml("a\r\nb\r\n\r\n\r\nc\n")).toBe("<p>a<br />b</p><p>c</p>");
  });

  test("http(s) URLs become Mastodon-style links; bare domains and other schemes stay text", () => {
    expect(plainToHtml("see https://example.com/a?x=1&y=2.")).toBe(
      '<p>see <a href="https://example.com/a?x=1&amp;y=2" target="_blank" rel="nofollow noopener" translate="no">' +
        '<span class="invisible">https://</span><span class="">example.com/a?x=1&amp;y=2</span><span class="invisible"></span></a>.</p>',
    );
    expect(plainToHtml("example.com javascript:alert(1) mail@example.com")).toBe("<p>example.com javascript:alert(1) mail@example.com</p>");
  });

  test("long URLs are shown shortened with the rest hidden, www. hidden with the scheme", () => {
    const html = plainToHtml("http://www.example.org/a/very/long/path/that/goes/on/and/on.html");
    expect(html).toContain('<span class="invisible">http://www.</span><span class="ellipsis">example.org/a/very/long/path/t</span><span class="invisible">hat/goes/on/and/on.html</span>');
  });

  test("a quote inside a URL cannot break out of the attribute", () => {
    const html = plainToHtml('https://example.com/"onmouseover="alert(1)');
    expect(html).not.toContain('"onmouseover');
    expect(html).toContain("&quot;onmouseover=&quot;");
  });

  test("single-line mode (field values): no paragraphs, rel=me on links", () => {
    expect(plainToHtml("a\nb", { multiline: false })).toBe("a b");
    expect(plainToHtml("https://example.com", { multiline: false, relMe: true })).toBe(
      '<a href="https://example.com" target="_blank" rel="nofollow noopener me" translate="no"><span class="invisible">https://</span><span class="">example.com</span><span class="invisible"></span></a>',
    );
  });

  test("large input stays fast", () => {
    const started = performance.now();
    plainToHtml("https://example.com/x ".repeat(2000) + "\n\n".repeat(2000));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
