/**
 * Custom emojis outside a post's text: a poll's `emojis` (from its option titles, on the status and on
 * /api/v1/polls/:id) and each version's `emojis` in the edit history — as Mastodon's Poll and StatusEdit
 * entities carry them. Checked against Mastodon's schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { deleteEmoji, importEmoji } from "../../src/features/custom-emojis/service";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);
let token: string;
let readerToken: string;
const emojiIds: string[] = [];

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  token = (await makeTestUser(context, "eph_author", { scopes: "read write" })).token!;
  readerToken = (await makeTestUser(context, "eph_reader", { scopes: "read write" })).token!;
  for (const shortcode of ["eph_cat", "eph_dog", "eph_owl"]) emojiIds.push((await importEmoji(context, { shortcode, bytes: PNG })).row!.id);
});

afterAll(async () => {
  // The run's database is shared by the test files: other files list the instance's emojis.
  for (const id of emojiIds) await deleteEmoji(context, id);
  await context.close();
});

const codes = (emojis: { shortcode: string }[]) => emojis.map((e) => e.shortcode).sort();

describe("poll emojis", () => {
  test("the options' emojis are on the poll, on the status and on /api/v1/polls/:id, for voters too", async () => {
    const posted = await call("POST", "/api/v1/statuses", {
      token,
      json: { status: "Which one? :eph_owl:", poll: { options: ["Cats :eph_cat:", "Dogs :eph_dog:", "Neither"], expires_in: 3600 } },
    });
    expect(posted.status).toBe(200);
    expect(codes(posted.json.poll.emojis)).toEqual(["eph_cat", "eph_dog"]);
    // The status's own emojis are those of its text and its options, as Mastodon's.
    expect(codes(posted.json.emojis)).toEqual(["eph_cat", "eph_dog", "eph_owl"]);
    expectMatchesSchema(posted.json, "Status");

    const poll = await call("GET", `/api/v1/polls/${posted.json.poll.id}`, { token: readerToken });
    expect(codes(poll.json.emojis)).toEqual(["eph_cat", "eph_dog"]);
    expect(poll.json.emojis[0].url).toStartWith("http");
    expectMatchesSchema(poll.json, "Poll");

    const voted = await call("POST", `/api/v1/polls/${posted.json.poll.id}/votes`, { token: readerToken, json: { choices: [0] } });
    expect(voted.status).toBe(200);
    expect(codes(voted.json.emojis)).toEqual(["eph_cat", "eph_dog"]);

    const timeline = await call("GET", "/api/v1/timelines/public?local=true", { token: readerToken });
    const seen = timeline.json.find((s: { id: string }) => s.id === posted.json.id);
    expect(codes(seen.poll.emojis)).toEqual(["eph_cat", "eph_dog"]);
  });

  test("a poll without :shortcodes: has none", async () => {
    const posted = await call("POST", "/api/v1/statuses", { token, json: { status: "plain", poll: { options: ["a", "b"], expires_in: 3600 } } });
    expect(posted.json.poll.emojis).toEqual([]);
  });
});

describe("edit history emojis", () => {
  test("each version lists the emojis of its own text, content warning and poll", async () => {
    const posted = await call("POST", "/api/v1/statuses", { token, json: { status: "first :eph_cat:" } });
    const edited = await call("PUT", `/api/v1/statuses/${posted.json.id}`, { token, json: { status: "second :eph_dog:", spoiler_text: "cw :eph_owl:" } });
    expect(edited.status).toBe(200);
    const history = await call("GET", `/api/v1/statuses/${posted.json.id}/history`, { token: readerToken });
    expect(history.status).toBe(200);
    expect(history.json.map((v: { emojis: { shortcode: string }[] }) => codes(v.emojis))).toEqual([["eph_cat"], ["eph_dog", "eph_owl"]]);
    expectMatchesSchema(history.json, arrayOf("StatusEdit"));
  });
});
