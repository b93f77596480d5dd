/**
 * Outbound addressing and activity shapes without I/O: to / cc per visibility as Mastodon's TagManager
 * writes them, which inboxes a status reaches, shared-inbox dedupe, the Note / Question JSON, activity ids,
 * and the delivery retry schedule (Sidekiq's count⁴ + 15 + jitter).
 */
import { describe, expect, test } from "bun:test";
import {
  announceActivity,
  answerFollowActivity,
  createActivity,
  deleteActivity,
  renderNote,
  undoActivity,
  updateActivity,
  type NoteInput,
} from "../../src/features/federation/activities";
import { addressStatus, dedupeInboxes, preferredInbox, PUBLIC, statusInboxes } from "../../src/features/federation/addressing";
import { deliveryJobId, MAX_ATTEMPTS, retryDelayMs } from "../../src/features/federation/delivery-jobs";

const ALICE = "https://ours.example/users/alice";
const FOLLOWERS = `${ALICE}/followers`;
const BOB = "https://remote.example/users/bob";
const config = { baseUrl: "https://ours.example", localDomain: "ours.example" };

function note(overrides: Partial<NoteInput> = {}): NoteInput {
  return {
    id: "1",
    uri: `${ALICE}/statuses/1`,
    url: "https://ours.example/@alice/1",
    content: "<p>hi</p>",
    spoilerText: "",
    sensitive: false,
    visibility: "public",
    language: "en",
    createdAt: new Date("2026-01-02T03:04:05.678Z"),
    editedAt: null,
    inReplyToUri: null,
    conversationId: "77",
    conversationUri: null,
    author: { uri: ALICE, username: "alice" },
    mentions: [],
    tags: [],
    media: [],
    repliesCount: 0,
    ...overrides,
  };
}

describe("addressStatus", () => {
  test("each visibility addresses like Mastodon", () => {
    expect(addressStatus("public", FOLLOWERS, [BOB])).toEqual({ to: [PUBLIC], cc: [FOLLOWERS, BOB] });
    expect(addressStatus("unlisted", FOLLOWERS, [BOB])).toEqual({ to: [FOLLOWERS], cc: [PUBLIC, BOB] });
    expect(addressStatus("private", FOLLOWERS, [BOB])).toEqual({ to: [FOLLOWERS], cc: [BOB] });
    expect(addressStatus("direct", FOLLOWERS, [BOB, BOB])).toEqual({ to: [BOB], cc: [] });
  });

  test("a boost carries the boosted author in cc", () => {
    expect(addressStatus("public", FOLLOWERS, [], BOB)).toEqual({ to: [PUBLIC], cc: [BOB, FOLLOWERS] });
  });

  test("private and direct posts never name Public", () => {
    for (const visibility of ["private", "direct"] as const) {
      const { to, cc } = addressStatus(visibility, FOLLOWERS, [BOB]);
      expect([...to, ...cc]).not.toContain(PUBLIC);
    }
  });
});

describe("inboxes", () => {
  const followers = ["https://a.example/inbox", "https://b.example/inbox"];
  const mentioned = ["https://b.example/inbox", "https://c.example/users/x/inbox"];

  test("followers and mentioned, deduplicated; direct reaches the mentioned only", () => {
    expect(statusInboxes({ visibility: "public", followerInboxes: followers, mentionedInboxes: mentioned })).toEqual([
      "https://b.example/inbox",
      "https://c.example/users/x/inbox",
      "https://a.example/inbox",
    ]);
    expect(statusInboxes({ visibility: "private", followerInboxes: followers, mentionedInboxes: [], otherInboxes: ["https://d.example/inbox"] })).toEqual(followers);
    expect(statusInboxes({ visibility: "direct", followerInboxes: followers, mentionedInboxes: mentioned })).toEqual(mentioned);
    expect(statusInboxes({ visibility: "public", followerInboxes: [], mentionedInboxes: [], otherInboxes: ["https://d.example/inbox"] })).toEqual(["https://d.example/inbox"]);
  });

  test("shared inbox preferred; junk dropped", () => {
    expect(preferredInbox({ inbox_url: "https://a.example/users/x/inbox", shared_inbox_url: "https://a.example/inbox" })).toBe("https://a.example/inbox");
    expect(preferredInbox({ inbox_url: "https://a.example/users/x/inbox", shared_inbox_url: null })).toBe("https://a.example/users/x/inbox");
    expect(dedupeInboxes(["https://a.example/inbox", "https://a.example/inbox", "javascript:alert(1)", "not a url", null, ""])).toEqual(["https://a.example/inbox"]);
  });
});

describe("activities", () => {
  test("a Note as Mastodon writes it", () => {
    const json = renderNote(
      config,
      note({
        mentions: [{ uri: BOB, acct: "bob@remote.example" }],
        tags: ["woolly"],
        media: [{ url: "https://ours.example/m.png", mediaType: "image/png", description: "alt", blurhash: "LKO2", focus: { x: 0.1, y: -0.2 }, width: 640, height: 480 }],
      }),
    );
    expect(json).toMatchObject({
      id: `${ALICE}/statuses/1`,
      type: "Note",
      summary: null,
      inReplyTo: null,
      published: "2026-01-02T03:04:05Z",
      url: "https://ours.example/@alice/1",
      attributedTo: ALICE,
      to: [PUBLIC],
      cc: [FOLLOWERS, BOB],
      sensitive: false,
      content: "<p>hi</p>",
      contentMap: { en: "<p>hi</p>" },
      conversation: "tag:ours.example,2026-01-02:objectId=77:objectType=Conversation",
      attachment: [{ type: "Document", mediaType: "image/png", url: "https://ours.example/m.png", name: "alt", blurhash: "LKO2", focalPoint: [0.1, -0.2], width: 640, height: 480 }],
      tag: [
        { type: "Mention", href: BOB, name: "@bob@remote.example" },
        { type: "Hashtag", href: "https://ours.example/tags/woolly", name: "#woolly" },
      ],
      replies: { id: `${ALICE}/statuses/1/replies`, type: "Collection" },
    });
    expect(json.updated).toBeUndefined();
    expect(json.bto).toBeUndefined();
    expect(json.bcc).toBeUndefined();
  });

  test("a poll is a Question with oneOf / anyOf", () => {
    const single = renderNote(config, note({ poll: { options: ["a", "b"], tallies: [3, 1], multiple: false, expiresAt: new Date("2099-01-01T00:00:00Z"), votersCount: 4 } }));
    expect(single).toMatchObject({ type: "Question", endTime: "2099-01-01T00:00:00Z", votersCount: 4 });
    expect(single.oneOf).toEqual([
      { type: "Note", name: "a", replies: { type: "Collection", totalItems: 3 } },
      { type: "Note", name: "b", replies: { type: "Collection", totalItems: 1 } },
    ]);
    expect(single.closed).toBeUndefined();
    const multiple = renderNote(config, note({ poll: { options: ["a"], tallies: [0], multiple: true, expiresAt: new Date("2000-01-01T00:00:00Z"), votersCount: 0 } }));
    expect(multiple.anyOf).toBeArray();
    expect(multiple.closed).toBe("2000-01-01T00:00:00Z");
  });

  test("Create / Update / Delete / Announce / Undo / Accept ids and addressing", () => {
    const create = createActivity(config, note({ visibility: "unlisted" }));
    expect(create).toMatchObject({ id: `${ALICE}/statuses/1/activity`, type: "Create", actor: ALICE, to: [FOLLOWERS], cc: [PUBLIC] });
    const update = updateActivity(config, note({ editedAt: new Date("2026-01-03T00:00:00Z") }));
    expect(update.id).toBe(`${ALICE}/statuses/1#updates/${Date.parse("2026-01-03T00:00:00Z") / 1000}`);
    expect((update.object as Record<string, unknown>).updated).toBe("2026-01-03T00:00:00Z");
    const deletion = deleteActivity(`${ALICE}/statuses/1`, ALICE, { to: [PUBLIC], cc: [FOLLOWERS] });
    expect(deletion.object).toEqual({ id: `${ALICE}/statuses/1`, type: "Tombstone", atomUri: `${ALICE}/statuses/1` });
    const announce = announceActivity({ uri: `${ALICE}/statuses/2`, visibility: "public", createdAt: new Date(0), actorUri: ALICE, originalUri: `${BOB}/notes/1`, originalAuthorUri: BOB });
    expect(announce).toMatchObject({ id: `${ALICE}/statuses/2/activity`, type: "Announce", to: [PUBLIC], cc: [BOB, FOLLOWERS], object: `${BOB}/notes/1` });
    const undo = undoActivity(ALICE, announce);
    expect(undo).toMatchObject({ id: `${ALICE}/statuses/2/activity/undo`, type: "Undo", actor: ALICE, object: { id: announce.id, type: "Announce" } });
    expect((undo.object as Record<string, unknown>)["@context"]).toBeUndefined();
    const accept = answerFollowActivity("Accept", { id: "9", uri: `${BOB}#follows/1`, followerUri: BOB, targetUri: ALICE });
    expect(accept).toMatchObject({ id: `${ALICE}#accepts/follows/9`, actor: ALICE, object: { id: `${BOB}#follows/1`, type: "Follow", actor: BOB, object: ALICE } });
  });
});

describe("delivery retries", () => {
  test("Sidekiq's schedule: count⁴ + 15 s + rand(10)·(count + 1) s, 16 retries, about two days", () => {
    expect(retryDelayMs(1, () => 0)).toBe(15_000);
    expect(retryDelayMs(2, () => 0)).toBe(16_000);
    expect(retryDelayMs(3, () => 0.99)).toBe((16 + 15 + 9 * 3) * 1000);
    expect(MAX_ATTEMPTS).toBe(17);
    let total = 0;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) total += retryDelayMs(attempt, () => 0.5);
    expect(total / 3_600_000).toBeGreaterThan(45);
    expect(total / 3_600_000).toBeLessThan(60);
  });

  test("job ids are per activity, inbox and attempt", () => {
    const body = JSON.stringify({ id: "https://ours.example/a/1" });
    expect(deliveryJobId(body, "https://a.example/inbox", 1)).toBe(deliveryJobId(body, "https://a.example/inbox", 1));
    expect(deliveryJobId(body, "https://a.example/inbox", 1)).not.toBe(deliveryJobId(body, "https://b.example/inbox", 1));
    expect(deliveryJobId(body, "https://a.example/inbox", 1)).not.toBe(deliveryJobId(body, "https://a.example/inbox", 2));
    expect(deliveryJobId(body, "https://a.example/inbox", 1)).toMatch(/^deliver-[0-9a-f]{40}-1$/);
  });
});
