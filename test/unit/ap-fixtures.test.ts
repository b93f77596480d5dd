/**
 * Objects as Mastodon, GoToSocial, Misskey, Pleroma and Plume send them (test/fixtures/activitypub, written
 * from their documented formats) parse into the statuses Mastodon would show.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseNote, type ParsedNote } from "../../src/features/federation/remote-statuses";

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(resolve(import.meta.dir, "../fixtures/activitypub", name), "utf8"));
}

function parsed(name: string, unwrap = false): ParsedNote {
  const json = fixture(name);
  const note = parseNote((unwrap ? json.object : json) as Record<string, unknown>);
  if (!note) throw new Error(`${name} did not parse`);
  return note;
}

describe("fixtures from other servers", () => {
  test("Mastodon Create(Note): reply, mention, hashtag, image with focal point, language from contentMap", () => {
    const note = parsed("mastodon-create-note.json", true);
    expect(note).toMatchObject({
      uri: "https://mastodon.example/users/alice/statuses/113000000000000001",
      url: "https://mastodon.example/@alice/113000000000000001",
      attributedTo: "https://mastodon.example/users/alice",
      visibility: "public",
      inReplyTo: "https://woolly.example/users/bob/statuses/1",
      language: "de",
      sensitive: false,
      spoilerText: "",
      mentions: ["https://woolly.example/users/bob"],
      tags: [{ name: "fediverse", display: "Fediverse" }],
    });
    expect(note.published.toISOString()).toBe("2024-08-01T12:00:00.000Z");
    expect(note.content).toContain('<a href="https://woolly.example/@bob" class="u-url mention" rel="nofollow noopener" target="_blank">');
    expect(note.content).not.toContain("translate");
    expect(note.media).toEqual([
      {
        type: "image",
        remoteUrl: "https://files.mastodon.example/media_attachments/files/113/original/a.jpg",
        description: "A cat on a keyboard",
        blurhash: "UCF$@%~q00Rj4nRjWBWB00M{t7j[xuofRjWB",
        focus: { x: 0, y: 0.5 },
        meta: { original: { width: 1200, height: 800, size: "1200x800", aspect: 1.5 } },
      },
    ]);
    expect(note.poll).toBeNull();
  });

  test("Mastodon Question: a multiple-choice poll with counts, followers-only, with a content warning", () => {
    const note = parsed("mastodon-question.json");
    expect(note.visibility).toBe("private");
    expect(note.spoilerText).toBe("poll CW");
    expect(note.sensitive).toBe(true);
    expect(note.poll).toEqual({ options: ["Red", "Blue", "Green"], tallies: [7, 5, 0], multiple: true, expiresAt: new Date("2024-08-03T10:00:00Z"), votersCount: 10 });
  });

  test("GoToSocial: single-value to/cc, an Image attachment, a single tag object", () => {
    const note = parsed("gotosocial-note.json");
    expect(note.visibility).toBe("private");
    expect(note.sensitive).toBe(true);
    expect(note.spoilerText).toBe("tech");
    expect(note.language).toBe("en");
    expect(note.tags).toEqual([{ name: "gotosocial", display: "GoToSocial" }]);
    expect(note.media.map((m) => [m.type, m.description])).toEqual([["image", "screenshot of a terminal"]]);
    // GoToSocial's extra rel values and target are replaced by ours.
    expect(note.content).toContain('rel="nofollow noopener" target="_blank"');
  });

  test("Misskey: HTML content (not _misskey_content), a video, a mention", () => {
    const note = parsed("misskey-note.json");
    expect(note.visibility).toBe("public");
    expect(note.content).toStartWith("<p><span>にゃーん </span>");
    expect(note.mentions).toEqual(["https://woolly.example/users/bob"]);
    expect(note.media.map((m) => m.type)).toEqual(["video"]);
    expect(note.media[0]!.description).toBeNull();
    expect(note.inReplyTo).toBeNull();
  });

  test("Pleroma: a direct message, media as a Link list, data- attributes stripped", () => {
    const note = parsed("pleroma-note.json");
    expect(note.visibility).toBe("direct");
    expect(note.sensitive).toBe(false);
    expect(note.content).not.toContain("data-user");
    expect(note.content).toContain("<br />");
    expect(note.media).toMatchObject([{ type: "audio", remoteUrl: "https://pleroma.example/media/song.mp3", description: null }]);
  });

  test("Plume Article: shown as title, summary and a link; author is the first attributedTo", () => {
    const note = parsed("plume-article.json");
    expect(note.attributedTo).toBe("https://blog.example/@/shepherd/");
    expect(note.content).toBe(
      '<p>On sheep &amp; wool</p><p>Why wool matters</p><p><a href="https://blog.example/~/Notes/on-sheep/" rel="nofollow noopener" target="_blank">https://blog.example/~/Notes/on-sheep/</a></p>',
    );
    expect(note.spoilerText).toBe("");
    expect(note.tags).toEqual([{ name: "wool", display: "Wool" }]);
  });

  test("not statuses: an actor, a Note without an author or with a javascript: id, oversized content", () => {
    expect(parseNote({ id: "https://x.example/u", type: "Person" })).toBeUndefined();
    expect(parseNote({ id: "https://x.example/n", type: "Note", content: "x" })).toBeUndefined();
    expect(parseNote({ id: "javascript:alert(1)", type: "Note", attributedTo: "https://x.example/u" })).toBeUndefined();
    expect(parseNote({ id: "https://x.example/n", type: "Note", attributedTo: "https://x.example/u", content: "x".repeat(200_000) })).toBeUndefined();
    // A date in the future is clamped to now (ids are drawn from it).
    const future = parseNote({ id: "https://x.example/n", type: "Note", attributedTo: "https://x.example/u", published: "2999-01-01T00:00:00Z" })!;
    expect(future.published.getTime()).toBeLessThanOrEqual(Date.now());
  });
});
