/**
 * Remote media, cached lazily: rows inserted as federation ingest makes them (remote_url, no file), an origin
 * served by a loopback Bun server (ALLOWED_PRIVATE_ADDRESSES=127.0.0.1), then: the entity points at our
 * proxy, nothing is stored before a view, 20 concurrent first views fetch once, later views never touch the
 * origin, the budget evicts least recently viewed first (never local uploads) and evicted media is fetched
 * again; hostile origins (HTML as PNG, 50 MB, a slow body, a redirect to the metadata address) leave no file
 * and answer 4xx/5xx-but-not-500; reject_media domains are never fetched; the admin CLI.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { renderMediaAttachment } from "../../src/api/entities/media-attachment";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { blockDomain } from "../../src/features/federation/domain-blocks";
import { mediaCapabilities } from "../../src/features/media/av";
import { evictRemoteCache } from "../../src/features/media/cache";
import { evictRemoteCacheJob } from "../../src/features/media/jobs";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { RECURRING } from "../../src/scheduler/recurring";
import type { MediaRow } from "../../src/features/media/service";
import { loadSharp, type Sharp } from "../../src/infra/sharp";
import { storageFor } from "../../src/infra/storage/index";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";
import { freePort, runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let sharp: Sharp;
let root: string;
let origin: ReturnType<typeof Bun.serve>;
let viewerToken: string;
const hits = new Map<string, number>();
const images = new Map<string, Uint8Array>();
const inFlight = { now: 0, max: 0 };
const ENV = { ALLOWED_PRIVATE_ADDRESSES: "127.0.0.1/32", MEDIA_FETCH_TIMEOUT: "2" };

const MB = 1024 * 1024;
/** A real ftyp box (isom) and filler: what the sniffer needs; without ffprobe nothing more is read. */
const MP4 = new Uint8Array(4096);
MP4.set([0, 0, 0, 0x18, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0, ...new TextEncoder().encode("isomiso2")]);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "woolly-remote-media-"));
  context = await testContext({ PAPERCLIP_ROOT_PATH: root, ...ENV });
  app = buildWebApp(context);
  sharp = await loadSharp();
  origin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path.startsWith("/img/")) {
        const bytes = images.get(path);
        if (!bytes) return new Response("gone", { status: 404 });
        // Slow enough that twenty concurrent first views all arrive while the first fetch is under way.
        inFlight.now++;
        inFlight.max = Math.max(inFlight.max, inFlight.now);
        await Bun.sleep(300);
        inFlight.now--;
        return new Response(bytes, { headers: { "content-type": "image/png" } });
      }
      if (path === "/clip.mp4") return new Response(MP4, { headers: { "content-type": "video/mp4" } });
      if (path === "/html.png") return new Response("<html><script>alert(1)</script></html>".repeat(10), { headers: { "content-type": "image/png" } });
      if (path === "/big.png") return new Response(new Uint8Array(50 * MB), { headers: { "content-type": "image/png" } });
      if (path === "/big-stream.png") {
        let sent = 0;
        const png = await pngOf(8, 8);
        return new Response(
          new ReadableStream({
            pull(controller) {
              if (sent >= 50 * MB) return controller.close();
              controller.enqueue(sent === 0 ? png : new Uint8Array(MB));
              sent += sent === 0 ? png.byteLength : MB;
            },
          }),
          { headers: { "content-type": "image/png" } },
        );
      }
      if (path === "/slow.png") {
        const png = await pngOf(8, 8);
        let at = 0;
        return new Response(
          new ReadableStream({
            async pull(controller) {
              if (at >= png.byteLength) return controller.close();
              await Bun.sleep(500);
              controller.enqueue(png.subarray(at, at + 8));
              at += 8;
            },
          }),
          { headers: { "content-type": "image/png" } },
        );
      }
      if (path === "/redirect.png") return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } });
      return new Response("not found", { status: 404 });
    },
  });
  const { account } = await createLocalAccount(context.sql, context.config, {
    username: "md_viewer",
    email: "md_viewer@example.com",
    password: "correct horse battery",
    confirmed: true,
  });
  viewerToken = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write" })).token;
});

afterAll(async () => {
  origin?.stop(true);
  await context.close();
  rmSync(root, { recursive: true, force: true });
});

// ---- helpers ----

async function pngOf(width: number, height: number, seed = 1): Promise<Uint8Array> {
  const data = new Uint8Array(width * height * 3).map((_, i) => (i * seed * 7 + seed) % 251);
  // EXIF on purpose: the cached copy must not keep it.
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 3 } }).withExif({ IFD0: { Make: "RemoteCam" } }).png().toBuffer());
}

let counter = 0;
const originUrl = (path: string) => `http://127.0.0.1:${origin.port}${path}`;

/**
 * A remote account, a status of it and one attachment, as federation ingest writes them. Unlisted, so other
 * test files' public timelines sharing this run's database never see these posts.
 */
async function remoteAttachment(options: { path: string; type?: string; domain?: string; meta?: unknown; visibility?: string } = { path: "/x" }) {
  const n = ++counter;
  const domain = options.domain ?? "md-remote.example";
  const [account] = await context.sql<{ id: string }[]>`
    insert into accounts (username, domain, uri, url)
    values (${`md_r${n}`}, ${domain}, ${`https://${domain}/users/md_r${n}`}, ${`https://${domain}/@md_r${n}`})
    on conflict (lower(username), lower(coalesce(domain, ''))) do update set updated_at = now()
    returning id`;
  const [status] = await context.sql<{ id: string }[]>`
    insert into statuses (account_id, uri, url, content, visibility, local)
    values (${account!.id}, ${`https://${domain}/statuses/${n}`}, ${`https://${domain}/@md_r${n}/${n}`}, '<p>look</p>', ${options.visibility ?? "unlisted"}, false)
    returning id`;
  const [media] = await context.sql<MediaRow[]>`
    insert into media_attachments (account_id, status_id, type, remote_url, processing, description, meta)
    values (${account!.id}, ${status!.id}, ${options.type ?? "image"}, ${originUrl(options.path)}, 'done', 'a remote picture',
            ${context.sql.json((options.meta ?? { original: { width: 40, height: 30 } }) as never)})
    returning *`;
  return { accountId: account!.id, statusId: status!.id, media: media! };
}

const row = async (id: string) => (await context.sql<MediaRow[]>`select * from media_attachments where id = ${id}`)[0]!;
const entityOf = async (id: string) => renderMediaAttachment(storageFor(context.config), await row(id));
const get = (url: string, headers: Record<string, string> = {}) => app.handle(new Request(`http://localhost${new URL(url).pathname}`, { headers }));

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}
const storedBytes = () => filesUnder(join(root, "media_attachments")).reduce((sum, f) => sum + statSync(f).size, 0);

async function cachedImage(name: string, size = 40) {
  const path = `/img/${name}.png`;
  images.set(path, await pngOf(size, Math.round(size * 0.75), ++counter));
  const created = await remoteAttachment({ path });
  const response = await get((await entityOf(created.media.id)).url!);
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return { ...created, path };
}

// ---- tests ----

describe("lazy remote media", () => {
  test("the entity points at our proxy, remote_url at the origin; nothing is stored or fetched before a view", async () => {
    const path = "/img/first.png";
    images.set(path, await pngOf(40, 30));
    const { media, statusId } = await remoteAttachment({ path });
    const entity = await entityOf(media.id);
    expectMatchesSchema(entity, "MediaAttachment");
    expect(entity.url).toBe(`${context.config.baseUrl}/media_proxy/${media.id}/original/${media.proxy_token}`);
    expect(entity.preview_url).toBe(`${context.config.baseUrl}/media_proxy/${media.id}/small/${media.proxy_token}`);
    expect(entity.remote_url).toBe(originUrl(path));
    expect(entity.meta).toEqual({ original: { width: 40, height: 30 } });
    expect(media.proxy_token).toMatch(/^[0-9a-f]{32}$/);
    expect(storedBytes()).toBe(0);
    expect(hits.get(path)).toBeUndefined();

    // The status as a client reads it carries the same proxy URLs.
    const response = await app.handle(new Request(`http://localhost/api/v1/statuses/${statusId}`, { headers: { authorization: `Bearer ${viewerToken}` } }));
    expect(response.status).toBe(200);
    const status = (await response.json()) as { media_attachments: { url: string; remote_url: string }[] };
    expect(status.media_attachments[0]!.url).toBe(entity.url!);
    expect(status.media_attachments[0]!.remote_url).toBe(originUrl(path));
    expect(hits.get(path)).toBeUndefined();
  });

  test("20 concurrent first views fetch the origin once; the copy is processed (EXIF gone) with a thumbnail; later views never hit the origin", async () => {
    const path = "/img/concurrent.png";
    images.set(path, await pngOf(800, 600));
    const { media } = await remoteAttachment({ path, meta: {} });
    const entity = await entityOf(media.id);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => get(i % 2 ? entity.url! : entity.preview_url!)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(hits.get(path)).toBe(1);

    const cached = await row(media.id);
    expect(cached.file_key).toMatch(/^media_attachments\/files\/.+\/original\/[0-9a-f]{32}\.png$/);
    expect(cached.small_key).toMatch(/\/small\/[0-9a-f]{32}\.png$/);
    expect(Number(cached.file_size)).toBeGreaterThan(0);
    expect(cached.blurhash).toMatch(/^[0-9A-Za-z#$%*+,-.:;=?@[\]^_{|}~]{6,}$/);
    expect(cached.cache_accessed_at).not.toBeNull();
    expect(existsSync(join(root, cached.file_key!))).toBe(true);
    expect(existsSync(join(root, cached.small_key!))).toBe(true);

    const original = await sharp(new Uint8Array(bodies[1]!)).metadata();
    expect([original.width, original.height]).toEqual([800, 600]);
    expect(original.exif).toBeUndefined();
    const small = await sharp(new Uint8Array(bodies[0]!)).metadata();
    expect(small.width! * small.height!).toBeLessThanOrEqual(230_400);
    expect(responses[0]!.headers.get("content-type")).toBe("image/png");
    expect(responses[0]!.headers.get("x-content-type-options")).toBe("nosniff");

    // The entity now carries the measured sizes, and still the proxy URL.
    const after = await entityOf(media.id);
    expectMatchesSchema(after, "MediaAttachment");
    expect(after.url).toBe(entity.url);
    expect((after.meta as any).original.width).toBe(800);
    expect((after.meta as any).small.width).toBe(small.width);

    const again = await get(entity.url!);
    expect(again.status).toBe(200);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(new Uint8Array(bodies[1]!));
    const ranged = await get(entity.url!, { range: "bytes=0-7" });
    expect(ranged.status).toBe(206);
    expect(hits.get(path)).toBe(1);
  });

  test("a timeline of 12 never-seen pictures opened at once: every one is fetched, at most 6 downloads at a time", async () => {
    const urls: string[] = [];
    for (let i = 0; i < 12; i++) {
      const path = `/img/timeline-${i}.png`;
      images.set(path, await pngOf(24, 18, i + 2));
      urls.push((await entityOf((await remoteAttachment({ path })).media.id)).url!);
    }
    inFlight.max = 0;
    const responses = await Promise.all(urls.map((url) => get(url)));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(inFlight.max).toBeGreaterThan(1);
    expect(inFlight.max).toBeLessThanOrEqual(6);
  });

  test("a wrong token, a wrong style, a local upload's id, garbage ids: 404 without any fetch", async () => {
    const path = "/img/tokens.png";
    images.set(path, await pngOf(20, 20));
    const { media } = await remoteAttachment({ path });
    for (const bad of [
      `/media_proxy/${media.id}/original/${"0".repeat(32)}`,
      `/media_proxy/${media.id}/large/${media.proxy_token}`,
      `/media_proxy/${media.id}/original/${media.proxy_token.slice(1)}`,
      `/media_proxy/99999999999999999999/original/${media.proxy_token}`,
      `/media_proxy/abc/original/${media.proxy_token}`,
      `/media_proxy/..%2F..%2Fetc/original/${media.proxy_token}`,
    ]) {
      const response = await app.handle(new Request(`http://localhost${bad}`));
      expect(response.status).toBe(404);
    }
    expect(hits.get(path)).toBeUndefined();
  });

  test("a view records the access at most once an hour", async () => {
    const { media } = await cachedImage("touch");
    await context.sql`update media_attachments set cache_accessed_at = now() - interval '2 hours' where id = ${media.id}`;
    await get((await entityOf(media.id)).url!); // the gate from the first view is still closed
    expect(Date.now() - (await row(media.id)).cache_accessed_at!.getTime()).toBeGreaterThan(3600_000);
    await context.redis.del(`${context.config.redis.namespace}:media:proxy:seen:${media.id}`);
    await get((await entityOf(media.id)).url!);
    expect(Date.now() - (await row(media.id)).cache_accessed_at!.getTime()).toBeLessThan(60_000);
  });

  test.skipIf(mediaCapabilities().ffprobe)("a remote video is cached as sent (no ffmpeg here) and served with ranges; no preview is promised before the first view", async () => {
    const { media } = await remoteAttachment({ path: "/clip.mp4", type: "video", meta: {} });
    const entity = await entityOf(media.id);
    expectMatchesSchema(entity, "MediaAttachment");
    expect(entity.preview_url).toBeNull();
    const ranged = await get(entity.url!, { range: "bytes=4-11" });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-type")).toBe("video/mp4");
    expect(new TextDecoder().decode(await ranged.arrayBuffer())).toBe("ftypisom");
    const cached = await row(media.id);
    expect(cached.type).toBe("video");
    expect(Number(cached.file_size)).toBe(MP4.byteLength);
    expect(hits.get("/clip.mp4")).toBe(1);
    // As an image it would be refused: the bytes must be what the post said.
    const { media: claimed } = await remoteAttachment({ path: "/clip.mp4", type: "image" });
    expect((await get((await entityOf(claimed.id)).url!)).status).toBe(502);
    expect((await row(claimed.id)).file_key).toBeNull();
  });

  test("a deleted status's or a suspended author's media is a 404, never fetched", async () => {
    const path = "/img/deleted.png";
    images.set(path, await pngOf(20, 20));
    const { media, statusId } = await remoteAttachment({ path });
    await context.sql`update statuses set deleted_at = now() where id = ${statusId}`;
    expect((await get((await entityOf(media.id)).url!)).status).toBe(404);
    expect(hits.get(path)).toBeUndefined();
    const suspended = await remoteAttachment({ path, domain: "md-suspended.example" });
    await context.sql`update accounts set suspended_at = now() where id = ${suspended.accountId}`;
    expect((await get((await entityOf(suspended.media.id)).url!)).status).toBe(404);
    expect(hits.get(path)).toBeUndefined();
  });
});

describe("hostile origins", () => {
  const cases: [string, string, number[]][] = [
    ["HTML served as image/png", "/html.png", [502]],
    ["a 50 MB body (declared)", "/big.png", [502]],
    ["a 50 MB body (streamed, no length)", "/big-stream.png", [502]],
    ["a body that trickles past the deadline", "/slow.png", [504]],
    ["a redirect to 169.254.169.254", "/redirect.png", [502]],
    ["an origin 404", "/missing.png", [404]],
  ];
  for (const [name, path, statuses] of cases) {
    test(`${name}: no file stored, a clean error, remembered (no second fetch)`, async () => {
      const before = storedBytes();
      const { media } = await remoteAttachment({ path });
      const url = (await entityOf(media.id)).url!;
      const started = Date.now();
      const response = await get(url);
      expect(statuses).toContain(response.status);
      expect(((await response.json()) as { error: string }).error).toBeString();
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await row(media.id)).file_key).toBeNull();
      expect(storedBytes()).toBe(before);
      const hitsAfterFirst = hits.get(path);
      const second = await get(url);
      expect(second.status).toBe(response.status);
      expect(hits.get(path)).toBe(hitsAfterFirst);
    });
  }

  test("the metadata address itself as remote_url is never contacted", async () => {
    const { media } = await remoteAttachment({ path: "/x.png" });
    await context.sql`update media_attachments set remote_url = 'http://169.254.169.254/latest/meta-data/' where id = ${media.id}`;
    const response = await get((await entityOf(media.id)).url!);
    expect(response.status).toBe(502);
    expect((await row(media.id)).file_key).toBeNull();
  });

  test("a video claimed as an image, and a non-media file as unknown, are refused", async () => {
    const path = "/img/not-an-image.png";
    images.set(path, new TextEncoder().encode("just some text, definitely not a picture"));
    const { media } = await remoteAttachment({ path, type: "unknown" });
    expect((await get((await entityOf(media.id)).url!)).status).toBe(502);
    expect((await row(media.id)).file_key).toBeNull();
  });
});

describe("domain blocks", () => {
  test("a reject_media domain (author's or file host's) is never fetched: 404", async () => {
    await blockDomain(context.sql, { domain: "md-rejected.example", severity: "silence", rejectMedia: true });
    const path = "/img/rejected.png";
    images.set(path, await pngOf(20, 20));
    const { media } = await remoteAttachment({ path, domain: "sub.md-rejected.example" });
    const entity = await entityOf(media.id);
    expect((await get(entity.url!)).status).toBe(404);
    expect((await get(entity.preview_url!)).status).toBe(404);
    expect(hits.get(path)).toBeUndefined();

    await blockDomain(context.sql, { domain: "127.0.0.1", severity: "noop", rejectMedia: true });
    try {
      const other = "/img/host-rejected.png";
      images.set(other, await pngOf(20, 20));
      const { media: second } = await remoteAttachment({ path: other });
      expect((await get((await entityOf(second.id)).url!)).status).toBe(404);
      expect(hits.get(other)).toBeUndefined();
    } finally {
      await context.sql`delete from domain_blocks where domain = '127.0.0.1'`;
    }
  });
});

describe("cache budget and retention", () => {
  test("the budget evicts least recently viewed first, never local uploads; an evicted copy is fetched again on view", async () => {
    // A local upload, which no budget may touch.
    const form = new FormData();
    form.append("file", new Blob([await pngOf(30, 30, 9)]), "local.png");
    const uploaded = await app.handle(new Request("http://localhost/api/v1/media", { method: "POST", body: form, headers: { authorization: `Bearer ${viewerToken}` } }));
    expect(uploaded.status).toBe(200);
    const local = (await uploaded.json()) as { id: string };
    const localKey = (await row(local.id)).file_key!;

    // Start from an empty cache so the arithmetic below is exact.
    await evictRemoteCache(context, { maxBytes: 1 });
    const a = await cachedImage("lru-a");
    const b = await cachedImage("lru-b");
    const c = await cachedImage("lru-c");
    await context.sql`update media_attachments set cache_accessed_at = now() - interval '1 minute' where id = ${a.media.id}`;
    await context.sql`update media_attachments set cache_accessed_at = now() - interval '3 hours' where id = ${b.media.id}`;
    await context.sql`update media_attachments set cache_accessed_at = now() - interval '2 hours' where id = ${c.media.id}`;
    const size = async (id: string) => Number((await row(id)).file_size) + Number((await row(id)).small_file_size);
    const total = (await size(a.media.id)) + (await size(b.media.id)) + (await size(c.media.id));

    const dry = await evictRemoteCache(context, { maxBytes: total - 1, dryRun: true });
    expect(dry.byBudget).toEqual({ count: 1, bytes: await size(b.media.id) });
    expect((await row(b.media.id)).file_key).not.toBeNull();

    const bKeys = await row(b.media.id);
    const first = await evictRemoteCache(context, { maxBytes: total - 1 });
    expect(first.byBudget.count).toBe(1);
    expect((await row(b.media.id)).file_key).toBeNull();
    expect(Number((await row(b.media.id)).file_size)).toBe(0);
    expect(existsSync(join(root, bKeys.file_key!))).toBe(false);
    expect(existsSync(join(root, bKeys.small_key!))).toBe(false);
    expect((await row(a.media.id)).file_key).not.toBeNull();
    expect((await row(c.media.id)).file_key).not.toBeNull();

    const second = await evictRemoteCache(context, { maxBytes: await size(a.media.id) });
    expect(second.byBudget.count).toBe(1);
    expect((await row(c.media.id)).file_key).toBeNull();
    expect((await row(a.media.id)).file_key).not.toBeNull();
    expect(existsSync(join(root, localKey))).toBe(true);

    // Viewing an evicted attachment fetches it again, under the same URL.
    const url = (await entityOf(b.media.id)).url!;
    expect(hits.get(b.path)).toBe(1);
    const refetched = await get(url);
    expect(refetched.status).toBe(200);
    expect(hits.get(b.path)).toBe(2);
    expect((await row(b.media.id)).file_key).not.toBeNull();

    // Everything remote out; the local upload stays.
    await evictRemoteCache(context, { maxBytes: 1 });
    expect(existsSync(join(root, localKey))).toBe(true);
    expect((await row(local.id)).file_key).toBe(localKey);
  });

  test("retention: copies not viewed for N days go; recently viewed stay", async () => {
    const old = await cachedImage("old");
    const fresh = await cachedImage("fresh");
    await context.sql`update media_attachments set cache_accessed_at = now() - interval '8 days' where id = ${old.media.id}`;
    const report = await evictRemoteCache(context, { retentionDays: 7 });
    expect(report.byAge.count).toBe(1);
    expect((await row(old.media.id)).file_key).toBeNull();
    expect((await row(fresh.media.id)).file_key).not.toBeNull();
  });
});

describe("the hourly job", () => {
  test("it is scheduled, and honours the admin setting media_cache_retention_period over the environment", async () => {
    expect(RECURRING.find((r) => r.name === "media.evict_remote_cache")?.job).toBe(evictRemoteCacheJob);
    const stale = await cachedImage("setting");
    await context.sql`update media_attachments set cache_accessed_at = now() - interval '4 days' where id = ${stale.media.id}`;
    const run = () => evictRemoteCacheJob.handler({}, { ...context, jobId: "test", attempt: 1 });
    await run(); // no retention configured (MEDIA_CACHE_RETENTION_PERIOD=0, setting unset), budget 5 GB: kept
    expect((await row(stale.media.id)).file_key).not.toBeNull();
    await setSetting(context.sql, "media_cache_retention_period", 3);
    try {
      await run();
      expect((await row(stale.media.id)).file_key).toBeNull();
    } finally {
      await resetSetting(context.sql, "media_cache_retention_period");
    }
  });
});

describe("S3 storage", () => {
  test("the proxy redirects to the cached object in the bucket; eviction deletes the objects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "woolly-remote-s3-"));
    const port = await freePort();
    const s3rver = new S3rver({ address: "127.0.0.1", port, directory: dir, silent: true, configureBuckets: [{ name: "md-remote" }] });
    await s3rver.run();
    const s3 = await testContext({
      ...ENV,
      S3_ENABLED: "true",
      S3_BUCKET: "md-remote",
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    });
    try {
      const s3app = buildWebApp(s3);
      const path = "/img/s3.png";
      images.set(path, await pngOf(48, 36));
      const { media } = await remoteAttachment({ path });
      const entity = renderMediaAttachment(storageFor(s3.config), await row(media.id));
      expect(entity.url).toStartWith(`${s3.config.baseUrl}/media_proxy/`);
      const response = await s3app.handle(new Request(`http://localhost${new URL(entity.url!).pathname}`));
      expect(response.status).toBe(302);
      const location = response.headers.get("location")!;
      expect(location).toStartWith(`http://127.0.0.1:${port}/md-remote/media_attachments/files/`);
      const object = await fetch(location);
      expect(object.status).toBe(200);
      expect((await sharp(new Uint8Array(await object.arrayBuffer())).metadata()).width).toBe(48);
      // A second view redirects without another fetch.
      expect((await s3app.handle(new Request(`http://localhost${new URL(entity.preview_url!).pathname}`))).status).toBe(302);
      expect(hits.get(path)).toBe(1);

      await s3.sql`update media_attachments set cache_accessed_at = now() - interval '30 days' where id = ${media.id}`;
      const report = await evictRemoteCache(s3, { retentionDays: 7 });
      expect(report.byAge.count).toBeGreaterThanOrEqual(1);
      expect((await fetch(location)).status).toBe(404);
    } finally {
      await s3.close();
      await s3rver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("clients and the admin CLI", () => {
  test("masto reads a remote status on a real port and the image URL it gets serves the picture", async () => {
    const path = "/img/masto.png";
    images.set(path, await pngOf(64, 48));
    const { statusId } = await remoteAttachment({ path });
    const server = buildWebApp(context).listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${server.server!.port}`;
      const masto = createRestAPIClient({ url: base, accessToken: viewerToken });
      const status = await masto.v1.statuses.$select(statusId).fetch();
      const url = status.mediaAttachments[0]!.url!;
      expect(status.mediaAttachments[0]!.remoteUrl).toBe(originUrl(path));
      expect(status.mediaAttachments[0]!.previewUrl).toBe(url.replace("/original/", "/small/"));
      expect(new URL(url).pathname).toStartWith("/media_proxy/");
      const image = await fetch(`${base}${new URL(url).pathname}`);
      expect(image.status).toBe(200);
      expect((await sharp(new Uint8Array(await image.arrayBuffer())).metadata()).width).toBe(64);
    } finally {
      await server.stop();
    }
  });

  test("usage, remove --dry-run, remove, refresh --status / --account / --domain", async () => {
    const env = { PAPERCLIP_ROOT_PATH: root, ...ENV };
    const cached = await cachedImage("cli");
    const usage = await runWoolly(["admin", "media", "usage"], env);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^local media: .+ in \d+ upload\(s\)$/m);
    expect(usage.stdout).toMatch(/^remote media cache: .+ in \d+ cached of \d+ known attachment\(s\); budget 5\.0 GiB/m);

    const dry = await runWoolly(["admin", "media", "remove", "--max-size", "1", "--dry-run"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Would remove [1-9]\d* least recently viewed/m);
    expect((await row(cached.media.id)).file_key).not.toBeNull();

    const removed = await runWoolly(["admin", "media", "remove", "--max-size", "1"], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/^Removed [1-9]\d* least recently viewed/m);
    expect((await row(cached.media.id)).file_key).toBeNull();

    const byStatus = await runWoolly(["admin", "media", "refresh", "--status", cached.statusId], env);
    expect(byStatus.stdout).toMatch(/^Fetched 1 remote media attachment\(s\); 0 failed/m);
    expect((await row(cached.media.id)).file_key).not.toBeNull();

    const path = "/img/cli-account.png";
    images.set(path, await pngOf(16, 16));
    const other = await remoteAttachment({ path, domain: "md-cli.example" });
    const acct = (await context.sql<{ username: string }[]>`select username from accounts where id = ${other.accountId}`)[0]!.username;
    const byAccount = await runWoolly(["admin", "media", "refresh", "--account", `${acct}@md-cli.example`], env);
    expect(byAccount.stdout).toMatch(/^Fetched 1 remote/m);
    const byDomain = await runWoolly(["admin", "media", "refresh", "--domain", "md-cli.example"], env);
    expect(byDomain.stdout + byDomain.stderr).toMatch(/^Fetched 0 remote/m); // already cached: nothing to do, safe to re-run

    const bad = await runWoolly(["admin", "media", "refresh", "--status", "1", "--domain", "x.example"], env);
    expect(bad.code).toBe(2);
    expect((await runWoolly(["admin", "media", "remove", "--max-size", "0"], env)).code).toBe(2);
    expect((await runWoolly(["admin", "media", "remove", "--days", "-3"], env)).code).toBe(2);
  });
});
