/**
 * MEDIA_FETCH_FOLLOWED: remote posts stored by the real ingest (storeRemoteNote, which publishes
 * status.created), real workers on default and pull in a Redis namespace of our own, a loopback origin.
 * A post by an author a local user follows has its picture cached without any view, fetched once; a post by
 * an author nobody here follows stores 0 bytes and never touches the origin; with the setting off, nothing
 * is fetched even for followed authors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWebApp } from "../../src/api/app";
import { renderMediaAttachment } from "../../src/api/entities/media-attachment";
import { parseNote, storeRemoteNote } from "../../src/features/federation/remote-statuses";
import type { MediaRow } from "../../src/features/media/service";
import { loadSharp } from "../../src/infra/sharp";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { storageFor } from "../../src/infra/storage/index";
import { jobRegistry } from "../../src/jobs";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";
import { expectMatchesSchema } from "../helpers/openapi";

const OWN_NAMESPACE = `${process.env.REDIS_NAMESPACE}_m2_eager`;
const DOMAIN = "m2-eager.example";
let root: string;
let context: TestContext;
let workers: RunningWorkers;
let origin: ReturnType<typeof Bun.serve>;
let png: Uint8Array;
let followerId: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "woolly-media-eager-"));
  const sharp = await loadSharp();
  png = new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer());
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      return path.startsWith("/img/") ? new Response(png, { headers: { "content-type": "image/png" } }) : new Response("nope", { status: 404 });
    },
  });
  context = await testContext({ PAPERCLIP_ROOT_PATH: root, ALLOWED_PRIVATE_ADDRESSES: "127.0.0.1/32", MEDIA_FETCH_FOLLOWED: "true", REDIS_NAMESPACE: OWN_NAMESPACE });
  workers = startWorkers({ queues: ["default", "pull"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  followerId = (await makeTestUser(context, "m2_follower", { scopes: "read" })).account.id;
});

afterAll(async () => {
  await workers?.close(5000);
  await context?.close();
  origin?.stop(true);
  rmSync(root, { recursive: true, force: true });
});

let counter = 0;

async function remoteAuthor(followed: boolean) {
  const name = `m2_author${++counter}`;
  const uri = `https://${DOMAIN}/users/${name}`;
  const [account] = await context.sql<{ id: string; uri: string }[]>`
    insert into accounts (username, domain, uri, url) values (${name}, ${DOMAIN}, ${uri}, ${`https://${DOMAIN}/@${name}`}) returning id, uri`;
  if (followed) await context.sql`insert into follows (account_id, target_account_id) values (${followerId}, ${account!.id})`;
  return account!;
}

/** A Create(Note) with one picture, stored as the inbox stores it. */
async function ingest(author: { id: string; uri: string }, ctx: TestContext = context) {
  const n = ++counter;
  const path = `/img/${n}.png`;
  const note = parseNote({
    type: "Note",
    id: `https://${DOMAIN}/statuses/${n}`,
    attributedTo: author.uri,
    content: "<p>a picture</p>",
    to: [`${author.uri}/followers`],
    cc: ["https://www.w3.org/ns/activitystreams#Public"],
    attachment: [{ type: "Document", mediaType: "image/png", url: `http://127.0.0.1:${origin.port}${path}`, name: "red" }],
  })!;
  const stored = await storeRemoteNote(ctx, author, note);
  const [media] = await context.sql<MediaRow[]>`select * from media_attachments where status_id = ${stored!.statusId}`;
  return { media: media!, path };
}

const row = async (id: string) => (await context.sql<MediaRow[]>`select * from media_attachments where id = ${id}`)[0]!;

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await Bun.sleep(50);
  }
}

function storedBytes(): number {
  const dir = join(root, "media_attachments");
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

describe("MEDIA_FETCH_FOLLOWED", () => {
  test("a followed author's picture is cached on arrival, without a view, fetched once; the proxy then serves it without the origin", async () => {
    const { media, path } = await ingest(await remoteAuthor(true));
    expect(media.remote_url).toContain(path);
    const cached = await eventually(() => row(media.id), (r) => r.file_key !== null);
    expect(cached.file_key).not.toBeNull();
    expect(cached.small_key).not.toBeNull();
    expect(Number(cached.file_size)).toBeGreaterThan(0);
    expect(cached.blurhash).toBeTruthy();
    expect(hits.get(path)).toBe(1);
    expect(storedBytes()).toBeGreaterThan(0);

    // A client's view now comes from storage: the origin is not asked again.
    const app = buildWebApp(context);
    const entity = renderMediaAttachment(storageFor(context.config), cached);
    const response = await app.handle(new Request(`http://localhost${new URL(entity.url!).pathname}`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    await response.arrayBuffer();
    expect(hits.get(path)).toBe(1);
  });

  test("a post by an author nobody here follows (relayed) stores 0 bytes and never contacts the origin", async () => {
    const before = storedBytes();
    const { media, path } = await ingest(await remoteAuthor(false));
    // The followed post ingested after it is the marker: the same queues have run past the unfollowed one.
    const marker = await ingest(await remoteAuthor(true));
    await eventually(() => row(marker.media.id), (r) => r.file_key !== null);
    const after = await row(media.id);
    expect(after.file_key).toBeNull();
    expect(Number(after.file_size ?? 0)).toBe(0);
    expect(hits.get(path)).toBeUndefined();
    // Only the marker's files were added.
    const markerRow = await row(marker.media.id);
    expect(storedBytes() - before).toBe(Number(markerRow.file_size) + Number(markerRow.small_file_size ?? 0));
  });

  test("with the setting off (the default), a followed author's picture stays a link until viewed", async () => {
    const off = await testContext({ PAPERCLIP_ROOT_PATH: root, ALLOWED_PRIVATE_ADDRESSES: "127.0.0.1/32", REDIS_NAMESPACE: `${OWN_NAMESPACE}_off` });
    const offWorkers = startWorkers({ queues: ["default", "pull"], concurrency: 2, registry: jobRegistry, context: off, connection: off.bullConnection, prefix: off.bullPrefix });
    try {
      expect(off.config.mediaFetchFollowed).toBe(false);
      const { media, path } = await ingest(await remoteAuthor(true), off);
      // The subscriber ran (inside its event's group job, which leaves its done-mark in this namespace) and
      // decided nothing: no warm job was ever enqueued.
      const planned = await eventually(
        async () => off.redis.keys(`${off.config.redis.namespace}:event-done:*:media.plan_eager`),
        (keys) => keys.length > 0,
      );
      expect(planned.length).toBe(1);
      expect((await off.queues.queue("pull").getJobs()).filter((j) => j.name === "media.warm_remote")).toEqual([]);
      expect((await row(media.id)).file_key).toBeNull();
      expect(hits.get(path)).toBeUndefined();
    } finally {
      await offWorkers.close(5000);
      await off.close();
    }
  });
});

describe("the instance says whether video is processed", () => {
  test("configuration.media_attachments.woolly reflects ffmpeg/ffprobe on PATH; the entity still matches Mastodon's schema; no type we would refuse is announced", async () => {
    const app = buildWebApp(context);
    const response = await app.handle(new Request("http://localhost/api/v2/instance"));
    expect(response.status).toBe(200);
    const instance = (await response.json()) as { configuration: { media_attachments: { supported_mime_types: string[]; woolly: Record<string, boolean> } } };
    expectMatchesSchema(instance, "Instance");
    const hints = instance.configuration.media_attachments.woolly;
    const ffmpeg = Bun.which("ffmpeg") !== null;
    const ffprobe = Bun.which("ffprobe") !== null;
    expect(hints).toEqual({ video_processing: ffmpeg && ffprobe, video_metadata: ffprobe, video_thumbnails: ffmpeg, transcoding: false });
    const types = instance.configuration.media_attachments.supported_mime_types;
    expect(types).toContain("video/mp4");
    expect(types).toContain("audio/mpeg");
    // ASF needs transcoding, which Woolly never does: Mastodon lists it, we must not.
    expect(types).not.toContain("video/x-ms-asf");
    // V1 keeps Mastodon's shape exactly.
    const v1 = (await (await app.handle(new Request("http://localhost/api/v1/instance"))).json()) as { configuration: { media_attachments: Record<string, unknown> } };
    expect(v1.configuration.media_attachments.woolly).toBeUndefined();
  });
});
