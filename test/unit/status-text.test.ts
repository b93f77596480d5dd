/** Status text: mentions and hashtags found, counted and rendered as Mastodon does. */
import { describe, expect, test } from "bun:test";
import { renderPoll } from "../../src/api/entities/poll";
import { checkPoll, checkScheduledAt, checkText } from "../../src/features/statuses/compose";
import { extractHashtags, extractMentions, statusHtml, statusLength } from "../../src/features/text/mentions-and-tags";

const targets = {
  baseUrl: "https://woolly.test",
  mentions: new Map([["alice", { url: "https://woolly.test/@alice", username: "alice" }], ["alice@woolly.test", { url: "https://woolly.test/@alice", username: "alice" }]]),
};

describe("mentions", () => {
  test("bare and qualified handles, once each, not inside e-mail addresses or URLs", () => {
    expect(extractMentions("hi @alice and @Alice and @bob@remote.example, mail me@example.com, see https://x.example/@carol")).toEqual([
      { username: "alice", domain: null },
      { username: "bob", domain: "remote.example" },
    ]);
  });

  test("known handles become h-card links; unknown ones stay text", () => {
    expect(statusHtml("hi @alice and @nobody", targets)).toBe(
      '<p>hi <span class="h-card" translate="no"><a href="https://woolly.test/@alice" class="u-url mention">@<span>alice</span></a></span> and @nobody</p>',
    );
    expect(statusHtml("@alice@woolly.test!", targets)).toContain('class="u-url mention">@<span>alice</span></a></span>!');
  });
});

describe("hashtags", () => {
  test("normalised lower-case, not all digits, not inside words or URLs", () => {
    expect(extractHashtags("#Woolly #woolly #123 #a1 x#nope https://x.example/#frag #café")).toEqual([
      { name: "woolly", display: "Woolly" },
      { name: "a1", display: "a1" },
      { name: "café", display: "café" },
    ]);
  });

  test("rendered as Mastodon's hashtag link, next to linkified URLs", () => {
    expect(statusHtml("#Woolly https://example.com/a <b>", targets)).toBe(
      '<p><a href="https://woolly.test/tags/Woolly" class="mention hashtag" rel="tag">#<span>Woolly</span></a> ' +
        '<a href="https://example.com/a" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://</span><span class="">example.com/a</span><span class="invisible"></span></a> &lt;b&gt;</p>',
    );
  });
});

describe("length", () => {
  test("URLs count 23, @user@domain counts as @user", () => {
    expect(statusLength(`see https://example.com/${"a".repeat(200)}`)).toBe(4 + 23);
    expect(statusLength("@bob@remote.example")).toBe(4);
  });

  test("500 is fine, 501 fails; text and spoiler count together", () => {
    expect(() => checkText("a".repeat(500), "", false)).not.toThrow();
    expect(() => checkText("a".repeat(501), "", false)).toThrow("Validation failed: Text character limit of 500 exceeded");
    expect(() => checkText("a".repeat(400), "b".repeat(101), false)).toThrow("character limit");
    expect(() => checkText("   ", "", false)).toThrow("Validation failed: Text can't be blank");
    expect(() => checkText("", "", true)).not.toThrow();
  });
});

describe("polls and scheduling", () => {
  test("2..4 options of ≤ 50 characters, 300..2629746 seconds", () => {
    expect(checkPoll({ options: ["a", "b"], expires_in: 300 }).options).toEqual(["a", "b"]);
    expect(() => checkPoll({ options: ["a"], expires_in: 300 })).toThrow("more than one item");
    expect(() => checkPoll({ options: ["a", "b", "c", "d", "e"], expires_in: 300 })).toThrow("more than 4 items");
    expect(() => checkPoll({ options: ["a", "x".repeat(51)], expires_in: 300 })).toThrow("50 characters");
    expect(() => checkPoll({ options: ["a", "a"], expires_in: 300 })).toThrow("duplicate");
    expect(() => checkPoll({ options: ["a", "b"], expires_in: 299 })).toThrow("too soon");
    expect(() => checkPoll({ options: ["a", "b"], expires_in: 2_629_747 })).toThrow("too far");
  });

  test("scheduled_at at least 5 minutes ahead", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    expect(checkScheduledAt("2030-01-01T00:05:00Z", now).toISOString()).toBe("2030-01-01T00:05:00.000Z");
    expect(() => checkScheduledAt("2030-01-01T00:04:59Z", now)).toThrow("must be in the future");
    expect(() => checkScheduledAt("not a date", now)).toThrow("invalid");
  });
});

describe("poll entity", () => {
  const poll = {
    id: "1", account_id: "10", status_id: "2", options: ["a", "b"], cached_tallies: [3, 1], multiple: false, hide_totals: true,
    votes_count: 4, voters_count: 4, expires_at: new Date("2030-01-01T00:00:00Z"),
  };
  const now = new Date("2029-12-31T00:00:00Z");

  test("hidden totals stay hidden from others until the poll ends; the author sees them", () => {
    expect(renderPoll(poll, "11", [0], [], now).options.map((o) => o.votes_count)).toEqual([null, null]);
    expect(renderPoll(poll, "10", [], [], now).options.map((o) => o.votes_count)).toEqual([3, 1]);
    expect(renderPoll(poll, "11", [], [], new Date("2030-01-02T00:00:00Z")).options.map((o) => o.votes_count)).toEqual([3, 1]);
  });

  test("voted / own_votes only for a signed-in viewer", () => {
    expect(renderPoll(poll, null, undefined, [], now)).not.toHaveProperty("voted");
    expect(renderPoll(poll, "11", [1], [], now)).toMatchObject({ voted: true, own_votes: [1], expired: false });
    expect(renderPoll(poll, "11", [], [], now)).toMatchObject({ voted: false, own_votes: [] });
  });
});
