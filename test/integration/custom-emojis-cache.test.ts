/**
 * Custom emoji changes reach cached status renderings at once (migration 0028's NOTIFY, heard by the status
 * render cache in api/entities/status.ts): an emoji an admin disables, re-categorises or deletes stops being
 * shown — or shows its new face — on the next read, not ten minutes later. Both the post's text emojis and
 * its author's profile emojis are covered; a remote emoji arriving with a post does not empty the caches.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renderStatuses, statusRenderCaches } from "../../src/api/entities/status";
import { changeEmoji, deleteEmoji, importEmoji, storeRemoteEmojis } from "../../src/features/custom-emojis/service";
import { postStatus } from "../../src/features/statuses/service";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

let context: TestContext;
let author: Awaited<ReturnType<typeof makeTestUser>>["account"];
let statusId: string;
let emojiId: string;

beforeAll(async () => {
  context = await testContext();
  author = (await makeTestUser(context, "ec_author")).account;
  const imported = await importEmoji(context, { shortcode: "ec_blob", bytes: PNG, category: "Blobs" });
  emojiId = imported.row!.id;
  statusId = (await postStatus(context, author, { status: "hello :ec_blob:", visibility: "public" })).statusId;
  // The first rendering starts the pool's listener, which empties the caches once connected: let it connect.
  await renderStatuses(context, undefined, [statusId]);
  await Bun.sleep(100);
});

afterAll(async () => {
  // The run's database is shared by the test files (others list the instance's emojis): leave none behind.
  await context.sql`delete from custom_emojis where shortcode like 'ec\_%'`;
  await context.close();
});

const render = async () => (await renderStatuses(context, undefined, [statusId]))[0]!;

/** The NOTIFY arrives asynchronously: wait (bounded) for the rendering to show what `done` expects. */
async function eventually(done: (status: Awaited<ReturnType<typeof render>>) => boolean) {
  let status = await render();
  for (let i = 0; i < 100 && !done(status); i++) {
    await Bun.sleep(20);
    status = await render();
  }
  return status;
}

describe("a cached rendering follows its emojis", () => {
  test("a new category shows, a disabled emoji goes, and comes back when enabled", async () => {
    const first = await render();
    expect(first.emojis.map((e) => e.shortcode)).toEqual(["ec_blob"]);
    expect(first.emojis[0]!.category).toBe("Blobs");
    // The rendering is cached now: a second read hits it.
    const hits = statusRenderCaches(context).statuses.hits;
    await render();
    expect(statusRenderCaches(context).statuses.hits).toBeGreaterThan(hits);

    await changeEmoji(context, emojiId, { category: "Round blobs" });
    expect((await eventually((s) => s.emojis[0]?.category === "Round blobs")).emojis[0]?.category).toBe("Round blobs");

    await changeEmoji(context, emojiId, { disabled: true });
    expect((await eventually((s) => s.emojis.length === 0)).emojis).toEqual([]);

    await changeEmoji(context, emojiId, { disabled: false });
    expect((await eventually((s) => s.emojis.length === 1)).emojis.map((e) => e.shortcode)).toEqual(["ec_blob"]);
  });

  test("a remote emoji arriving with a post leaves the caches alone", async () => {
    await render();
    const size = statusRenderCaches(context).statuses.size;
    expect(size).toBeGreaterThan(0);
    await storeRemoteEmojis(context, "ec-remote.example", [{ shortcode: "ec_far", imageUrl: "https://ec-remote.example/e/far.png", uri: "https://ec-remote.example/emojis/1" }]);
    await Bun.sleep(200);
    expect(statusRenderCaches(context).statuses.size).toBe(size);
  });

  test("a deleted emoji is gone from the post on the next read", async () => {
    await render();
    await deleteEmoji(context, emojiId);
    expect((await eventually((s) => s.emojis.length === 0)).emojis).toEqual([]);
  });
});
