/**
 * Media uploads end to end through the web app: every accepted image format made here with sharp, hostile
 * files, v1 (synchronous) and v2 (202 + a real worker), the local file route with ranges, ownership,
 * deletion, the orphan sweep, the admin CLI, and one upload through the `masto` client on a real port.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { mediaCapabilities } from "../../src/features/media/av";
import { ORIGINAL_PIXELS, SMALL_PIXELS } from "../../src/features/media/limits";
import { removeOrphans } from "../../src/features/media/service";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { loadSharp, type Sharp } from "../../src/infra/sharp";
import { jobRegistry } from "../../src/jobs";
import { runWoolly, waitFor } from "../helpers/cli";
import { movie } from "../helpers/mp4";
import { expectMatchesSchema } from "../helpers/openapi";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let sharp: Sharp;
let root: string;
let workers: RunningWorkers | undefined;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "woolly-media-"));
  context = await testContext({ PAPERCLIP_ROOT_PATH: root });
  app = buildWebApp(context);
  sharp = await loadSharp();
  for (const name of ["media_alice", "media_bob"]) {
    const { account } = await createLocalAccount(context.sql, context.config, {
      username: name,
      email: `${name}@example.com`,
      password: "correct horse battery",
      confirmed: true,
    });
    tokens[name] = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write" })).token;
  }
  tokens.readOnly = (await issueToken(context.sql, { userId: (await context.sql`select id from users limit 1`)[0]!.id, applicationId: null, scopes: "read" })).token;
});

afterAll(async () => {
  await workers?.close(5000);
  await context.close();
  rmSync(root, { recursive: true, force: true });
});

// ---- helpers ----

const call = (path: string, init: RequestInit & { token?: string } = {}) => {
  const headers = new Headers(init.headers);
  const token = init.token ?? tokens.media_alice;
  if (token) headers.set("authorization", `Bearer ${token}`);
  return app.handle(new Request(`http://localhost${path}`, { ...init, headers }));
};

function form(fields: Record<string, Blob | string | [Uint8Array, string]>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (Array.isArray(value)) data.append(name, new Blob([value[0]]), value[1]);
    else data.append(name, value);
  }
  return data;
}

async function upload(version: 1 | 2, fields: Record<string, Blob | string | [Uint8Array, string]>, token?: string) {
  const response = await call(`/api/v${version}/media`, { method: "POST", body: form(fields), token });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** A file's path under /system/, from the URL the API handed out. */
const systemPath = (url: string) => new URL(url).pathname;
const fetchFile = async (url: string, headers: Record<string, string> = {}) => call(systemPath(url), { headers, token: "" });
const fileBytes = async (url: string) => new Uint8Array(await (await fetchFile(url)).arrayBuffer());
const diskPath = (url: string) => join(root, systemPath(url).slice("/system/".length));

function noise(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  crypto.getRandomValues(data.subarray(0, Math.min(data.length, 65536)));
  for (let i = 65536; i < data.length; i++) data[i] = data[i - 65536]!;
  return data;
}

const raw = (width: number, height: number) => sharp(noise(width, height), { raw: { width, height, channels: 3 } });

async function jpegWithGps(): Promise<Uint8Array> {
  return new Uint8Array(
    await raw(64, 48)
      .jpeg()
      .withExif({ IFD0: { Make: "WoollyCam", Model: "Secret Model" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 2996/100", GPSLongitudeRef: "E", GPSLongitude: "2/1 17/1 4023/100" } })
      .toBuffer(),
  );
}

async function animatedGif(): Promise<Uint8Array> {
  const frames = await Promise.all(["red", "green", "blue"].map((background) => sharp({ create: { width: 40, height: 30, channels: 3, background } }).png().toBuffer()));
  return new Uint8Array(await sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100, 100], loop: 0 }).toBuffer());
}

// ---- formats ----

describe("images", () => {
  test("JPEG: EXIF (GPS included) is stripped, meta and blurhash are Mastodon-shaped", async () => {
    const original = await jpegWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined(); // the fixture really carries EXIF
    const { status, json } = await upload(1, { file: [original, "holiday.jpg"], description: "A field" });
    expect(status).toBe(200);
    expect(Object.keys(json)).toEqual(["id", "type", "url", "preview_url", "remote_url", "preview_remote_url", "text_url", "meta", "description", "blurhash"]);
    expect(json).toMatchObject({ type: "image", remote_url: null, preview_remote_url: null, text_url: null, description: "A field" });
    expect(json.url).toMatch(/^http:\/\/woolly\.test\/system\/media_attachments\/files\/(\d{3}\/)+original\/[0-9a-f]{32}\.jpg$/);
    expect(json.preview_url).toMatch(/\/small\/[0-9a-f]{32}\.jpg$/);
    expect(json.meta.original).toEqual({ width: 64, height: 48, size: "64x48", aspect: 64 / 48 });
    expect(json.meta.small.width * json.meta.small.height).toBeLessThanOrEqual(SMALL_PIXELS);
    expect(json.blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{20,}$/);
    for (const url of [json.url, json.preview_url]) {
      const stored = await fileBytes(url);
      const meta = await sharp(stored).metadata();
      expect(meta.format).toBe("jpeg");
      expect(meta.exif).toBeUndefined();
      expect(new TextDecoder("latin1").decode(stored)).not.toContain("WoollyCam");
    }
  });

  test("JPEG: EXIF orientation is applied", async () => {
    const rotated = new Uint8Array(await raw(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const { json } = await upload(1, { file: [rotated, "r.jpg"] });
    expect(json.meta.original.size).toBe("20x40");
    expect((await sharp(await fileBytes(json.url)).metadata()).orientation ?? 1).toBe(1);
  });

  test("PNG, WebP and AVIF (converted to JPEG)", async () => {
    const png = await upload(1, { file: [new Uint8Array(await raw(30, 20).png().toBuffer()), "a.png"] });
    expect(png.status).toBe(200);
    expect(png.json.url).toMatch(/\.png$/);
    expect((await sharp(await fileBytes(png.json.url)).metadata()).format).toBe("png");

    const webp = await upload(1, { file: [new Uint8Array(await raw(30, 20).webp().toBuffer()), "a.webp"] });
    expect(webp.status).toBe(200);
    expect(webp.json.url).toMatch(/\.webp$/);

    const avif = await upload(1, { file: [new Uint8Array(await raw(30, 20).avif().toBuffer()), "a.avif"] });
    expect(avif.status).toBe(200);
    expect(avif.json.url).toMatch(/\.jpg$/);
    expect((await sharp(await fileBytes(avif.json.url)).metadata()).format).toBe("jpeg");
    expect(avif.json.meta.original.size).toBe("30x20");
  });

  test("an animated GIF stays animated (type image; no ffmpeg gifv conversion), its preview is a still", async () => {
    const { status, json } = await upload(1, { file: [await animatedGif(), "anim.gif"] });
    expect(status).toBe(200);
    expect(json.type).toBe("image");
    const stored = await sharp(await fileBytes(json.url), { animated: true }).metadata();
    expect(stored.format).toBe("gif");
    expect(stored.pages).toBe(3);
    expect(json.meta.original.size).toBe("40x30");
    expect(json.preview_url).toMatch(/\.png$/);
    expect((await sharp(await fileBytes(json.preview_url)).metadata()).pages ?? 1).toBe(1);
  });

  test("large images are scaled down to 3840x2160-class pixels, keeping the aspect ratio", async () => {
    const big = new Uint8Array(await sharp({ create: { width: 4000, height: 2500, channels: 3, background: "teal" } }).jpeg().toBuffer());
    const { json } = await upload(1, { file: [big, "big.jpg"] });
    const { width, height } = json.meta.original;
    expect(width * height).toBeLessThanOrEqual(ORIGINAL_PIXELS);
    expect(width * height).toBeGreaterThan(ORIGINAL_PIXELS * 0.99);
    expect(Math.abs(width / height - 1.6)).toBeLessThan(0.01);
    expect(json.meta.small.width * json.meta.small.height).toBeLessThanOrEqual(SMALL_PIXELS);
  });
});

describe("hostile uploads", () => {
  const refused = async (fields: Record<string, Blob | string | [Uint8Array, string]>, error: string | RegExp, status = 422) => {
    for (const version of [1, 2] as const) {
      const result = await upload(version, fields);
      expect(result.status).toBe(status);
      expect(typeof result.json.error).toBe("string");
      expect(result.json.error).toMatch(error);
    }
  };

  test("text bytes named .png, SVG with script", async () => {
    const invalid = "Validation failed: File content type is invalid";
    await refused({ file: [new TextEncoder().encode("hello, I am not an image at all"), "cat.png"] }, invalid);
    const svg = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>';
    await refused({ file: [new TextEncoder().encode(svg), "x.svg"] }, invalid);
    await refused({ file: new Blob([svg], { type: "image/png" }) }, invalid);
  });

  test("a truncated JPEG", async () => {
    const whole = new Uint8Array(await raw(200, 150).jpeg().toBuffer());
    const result = await upload(1, { file: [whole.subarray(0, whole.length / 2), "t.jpg"] });
    expect(result.status).toBe(422);
    expect(result.json.error).toBe("File type of uploaded media could not be verified");
  });

  test("a PNG whose header claims 20000x20000 is refused fast, without decoding", async () => {
    const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: "red" } }).png().toBuffer());
    const view = new DataView(png.buffer, png.byteOffset);
    view.setUint32(16, 20000);
    view.setUint32(20, 20000);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    await refused({ file: [new Uint8Array(png), "bomb.png"] }, /File dimensions are too large|could not be verified/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024); // 20000² RGBA would be 1.6 GB
  });

  test("field limits: description, focus, missing or non-file `file`, thumbnail on an image", async () => {
    const png = new Uint8Array(await raw(8, 8).png().toBuffer());
    await refused({ file: [png, "a.png"], description: "x".repeat(1501) }, /description is too long \(maximum is 1500 characters\)/);
    await refused({ file: [png, "a.png"], focus: "2,0" }, /focus/);
    await refused({ file: [png, "a.png"], focus: "abc" }, /focus/);
    await refused({ file: "just a string" }, /file must be a file/);
    await refused({ description: "no file" }, /Missing required parameter: file/, 400);
    await refused({ file: [png, "a.png"], thumbnail: [png, "t.png"] }, "Validation failed: Thumbnail must be blank");

    const emoji = "🐑".repeat(1500); // 1500 characters, 3000 UTF-16 units: allowed
    const ok = await upload(1, { file: [png, "a.png"], description: emoji, focus: "0.5,-0.25" });
    expect(ok.status).toBe(200);
    expect(ok.json.description).toBe(emoji);
    expect(ok.json.meta.focus).toEqual({ x: 0.5, y: -0.25 });
  });

  test("a body declared larger than the video limit is refused with 413 before it is read", async () => {
    const response = await call("/api/v2/media", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=x", "content-length": String(1024 ** 3) },
      body: "--x--",
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: "The request body is too large" });
  });

  test("no token, read-only token, malformed bodies", async () => {
    expect((await call("/api/v1/media", { method: "POST", body: form({ file: "x" }), token: "" })).status).toBe(401);
    expect((await call("/api/v1/media", { method: "POST", body: form({ file: "x" }), token: tokens.readOnly })).status).toBe(403);
    const broken = await call("/api/v1/media", { method: "POST", headers: { "content-type": "multipart/form-data; boundary=zz" }, body: "--zz\r\ngarbage" });
    expect(broken.status).toBe(400);
  });
});

describe("video and audio", () => {
  test(`an MP3 is stored as audio (${mediaCapabilities().ffprobe ? "ffprobe present: junk frames are refused" : "no ffprobe: stored as is, meta unknown"})`, async () => {
    const mp3 = new Uint8Array(4096);
    mp3.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
    mp3.set([0xff, 0xfb, 0x90, 0x64], 10);
    const result = await upload(1, { file: [mp3, "song.mp3"] });
    if (mediaCapabilities().ffprobe) {
      expect([200, 422]).toContain(result.status);
      return;
    }
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ type: "audio", preview_url: null, meta: null, blurhash: null });
    expect(result.json.url).toMatch(/\.mp3$/);
    const served = await fetchFile(result.json.url);
    expect(served.headers.get("content-type")).toBe("audio/mpeg");
    expect((await served.bytes()).length).toBe(4096);
  });

  test(`an MP4 video (${mediaCapabilities().ffprobe ? "ffprobe present" : "no ffmpeg/ffprobe: accepted unprocessed, stored as uploaded, meta and preview unknown"})`, async () => {
    // A real ftyp box (isom) followed by filler: enough for the sniffer, not a playable movie.
    const mp4 = new Uint8Array(8192);
    mp4.set([0, 0, 0, 0x18, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0, ...new TextEncoder().encode("isomiso2")]);
    for (const version of [1, 2] as const) {
      const result = await upload(version, { file: [mp4, "clip.mp4"], description: "a clip" });
      if (mediaCapabilities().ffprobe) {
        // ffprobe refuses the filler: a clean 422 now (v1) or a failed row later (v2), never a 500.
        expect([200, 202, 422]).toContain(result.status);
        continue;
      }
      if (version === 2) {
        expect(result.status).toBe(202);
        workers ??= startWorkers({ queues: ["default"], concurrency: 2, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
        const done = await waitFor(async () => {
          const polled = await call(`/api/v1/media/${result.json.id}`);
          return polled.status === 200 ? ((await polled.json()) as Record<string, any>) : undefined;
        }, 20_000);
        Object.assign(result.json, done);
      } else expect(result.status).toBe(200);
      expect(result.json).toMatchObject({ type: "video", preview_url: null, meta: null, blurhash: null, description: "a clip" });
      expect(result.json.url).toMatch(/\/original\/[0-9a-f]{32}\.mp4$/);
      const served = await fetchFile(result.json.url, { range: "bytes=0-15" });
      expect(served.status).toBe(206);
      expect(served.headers.get("content-type")).toBe("video/mp4");
      expect(await served.bytes()).toEqual(mp4.subarray(0, 16));
    }
  });

  test.skipIf(mediaCapabilities().ffprobe)("without ffprobe, an MP4's own headers give width, height and duration; the pixel limit still holds", async () => {
    const result = await upload(1, { file: [movie({ width: 1920, height: 1080, seconds: 4.5, audio: true, mdat: 64 * 1024 }), "movie.mp4"] });
    expect(result.status).toBe(200);
    expect(result.json.type).toBe("video");
    expect(result.json.meta.original).toMatchObject({ width: 1920, height: 1080, duration: 4.5 });
    expect(result.json.meta.original.bitrate).toBeGreaterThan(0);
    expectMatchesSchema(result.json, "MediaAttachment");
    const sound = await upload(1, { file: [movie({ video: false, audio: true, seconds: 2 }), "sound.mp4"] });
    expect(sound.status).toBe(200);
    expect(sound.json.type).toBe("audio");
    expect(sound.json.url).toMatch(/\.mp4$/);
    const huge = await upload(1, { file: [movie({ width: 7680, height: 4320 }), "8k.mp4"] });
    expect(huge.status).toBe(422);
    expect(huge.json.error).toBe("7680x4320 videos are not supported");
  });

  test("a custom thumbnail becomes an audio file's preview", async () => {
    const mp3 = new Uint8Array(2048);
    mp3.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
    const thumbnail = new Uint8Array(await raw(800, 600).jpeg().toBuffer());
    const result = await upload(1, { file: [mp3, "s.mp3"], thumbnail: [thumbnail, "cover.jpg"] });
    if (mediaCapabilities().ffprobe) return; // ffprobe refuses this fake MP3
    expect(result.status).toBe(200);
    expect(result.json.preview_url).toMatch(/\/small\/[0-9a-f]{32}\.jpg$/);
    expect(result.json.blurhash).toBeString();
    expect(result.json.meta.small.width * result.json.meta.small.height).toBeLessThanOrEqual(SMALL_PIXELS);
  });
});

describe("v2: 202, then the media.process job", () => {
  test("pending → 206 with url null; a real worker finishes it → 200 with files; failed uploads answer 422", async () => {
    const jpeg = await jpegWithGps();
    const accepted = await upload(2, { file: [jpeg, "later.jpg"], description: "later" });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toMatchObject({ type: "image", url: null, preview_url: null, description: "later" });
    const id = accepted.json.id as string;
    // the raw upload is kept privately and is never served
    const [row] = await context.sql<{ upload_key: string }[]>`select upload_key from media_attachments where id = ${id}`;
    expect(row!.upload_key).toMatch(/^tmp\/uploads\/[0-9a-f]{32}\.jpg$/);
    expect(existsSync(join(root, row!.upload_key))).toBe(true);
    expect((await call(`/system/${row!.upload_key}`)).status).toBe(404);
    expect((await call(`/api/v1/media/${id}`)).status).toBe(206);

    const truncated = new Uint8Array(await raw(100, 100).jpeg().toBuffer());
    const doomed = await upload(2, { file: [truncated.subarray(0, truncated.length - 200), "bad.jpg"] });
    expect(doomed.status).toBe(202);

    workers = startWorkers({ queues: ["default"], concurrency: 2, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
    const done = await waitFor(async () => {
      const response = await call(`/api/v1/media/${id}`);
      return response.status === 200 ? ((await response.json()) as Record<string, any>) : undefined;
    }, 20_000);
    expect(done.url).toMatch(/\/original\/[0-9a-f]{32}\.jpg$/);
    expect(done.preview_url).toMatch(/\/small\/[0-9a-f]{32}\.jpg$/);
    expect(done.blurhash).toBeString();
    expect(done.meta.original.size).toBe("64x48");
    expect((await sharp(await fileBytes(done.url)).metadata()).exif).toBeUndefined();
    expect(existsSync(join(root, row!.upload_key))).toBe(false);

    const failed = await waitFor(async () => {
      const response = await call(`/api/v1/media/${doomed.json.id}`);
      return response.status === 422 ? ((await response.json()) as Record<string, any>) : undefined;
    }, 20_000);
    expect(failed).toEqual({ error: "Error processing thumbnail for uploaded media" });
  });

  test("one upload through the masto client on a real port", async () => {
    workers ??= startWorkers({ queues: ["default"], concurrency: 2, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
    const server = buildWebApp(context).listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const masto = createRestAPIClient({ url: `http://127.0.0.1:${server.server!.port}`, accessToken: tokens.media_alice });
      const png = await raw(50, 40).png().toBuffer();
      const attachment = await masto.v2.media.create({ file: new Blob([new Uint8Array(png)], { type: "image/png" }), description: "via masto" });
      expect(attachment.type).toBe("image");
      expect(attachment.url).toMatch(/\.png$/);
      expect(attachment.description).toBe("via masto");
      expect(attachment.meta?.original?.width).toBe(50);
    } finally {
      await server.stop();
    }
  });
});

describe("served files", () => {
  test("headers, ETag/304, ranges (206, 416), HEAD", async () => {
    const { json } = await upload(1, { file: [new Uint8Array(await raw(120, 90).png().toBuffer()), "r.png"] });
    const full = await fetchFile(json.url);
    expect(full.status).toBe(200);
    expect(full.headers.get("content-type")).toBe("image/png");
    expect(full.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(full.headers.get("accept-ranges")).toBe("bytes");
    expect(full.headers.get("last-modified")).toBeString();
    const etag = full.headers.get("etag")!;
    const body = new Uint8Array(await full.arrayBuffer());
    expect(Number(full.headers.get("content-length"))).toBe(body.length);

    expect((await fetchFile(json.url, { "if-none-match": etag })).status).toBe(304);

    const part = await fetchFile(json.url, { range: "bytes=0-9" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-9/${body.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(body.subarray(0, 10));

    const tail = await fetchFile(json.url, { range: "bytes=-5" });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(body.subarray(body.length - 5));

    const open = await fetchFile(json.url, { range: `bytes=${body.length - 3}-` });
    expect(open.headers.get("content-range")).toBe(`bytes ${body.length - 3}-${body.length - 1}/${body.length}`);

    const beyond = await fetchFile(json.url, { range: `bytes=${body.length + 10}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${body.length}`);

    const head = await call(systemPath(json.url), { method: "HEAD", token: "" });
    expect(head.status).toBe(200);
  });

  test("path traversal and odd keys are 404s", async () => {
    for (const path of [
      "/system/../../etc/passwd",
      "/system/..%2F..%2Fetc%2Fpasswd",
      "/system/media_attachments/..%2F..%2F..%2Fetc%2Fpasswd",
      "/system/%2Fetc%2Fpasswd",
      "/system/media_attachments/files/%00.png",
      "/system/media_attachments/%E0%A4%A",
      "/system/",
      "/system/tmp/uploads/x.jpg",
    ]) {
      const response = await app.handle(new Request(`http://localhost${path}`));
      expect([400, 404]).toContain(response.status);
      expect(await response.text()).not.toContain("root:");
    }
  });
});

describe("ownership, update, delete", () => {
  test("another account's media is a 404 for GET, PUT and DELETE; the owner may update and delete", async () => {
    const { json } = await upload(1, { file: [new Uint8Array(await raw(20, 20).png().toBuffer()), "o.png"] });
    const path = `/api/v1/media/${json.id}`;
    const bob = tokens.media_bob;
    expect((await call(path, { token: bob })).status).toBe(404);
    expect((await call(path, { method: "PUT", token: bob, headers: { "content-type": "application/json" }, body: '{"description":"mine"}' })).status).toBe(404);
    expect((await call(path, { method: "DELETE", token: bob })).status).toBe(404);
    for (const id of ["abc", "99999999999999999999", "1;drop", "-1"]) expect((await call(`/api/v1/media/${id}`)).status).toBe(404);

    const put = await call(path, { method: "PUT", headers: { "content-type": "application/json" }, body: '{"description":"alt text","focus":"-1,1"}' });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ description: "alt text", meta: { focus: { x: -1, y: 1 } } });
    const badPut = await call(path, { method: "PUT", headers: { "content-type": "application/json" }, body: '{"focus":"1.5,0"}' });
    expect(badPut.status).toBe(422);

    const files = [diskPath(json.url), diskPath(json.preview_url)];
    for (const file of files) expect(existsSync(file)).toBe(true);
    const deleted = await call(path, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    for (const file of files) expect(existsSync(file)).toBe(false);
    expect((await fetchFile(json.url)).status).toBe(404);
    expect((await call(path)).status).toBe(404);
  });

  test("attached media cannot be deleted (422) and is no longer visible to GET", async () => {
    const { json } = await upload(1, { file: [new Uint8Array(await raw(10, 10).png().toBuffer()), "a.png"] });
    // A real status: media_attachments.status_id references statuses since the social-core migration.
    await context.sql`
      with s as (insert into statuses (account_id, text) select account_id, 'with media' from media_attachments where id = ${json.id} returning id)
      update media_attachments set status_id = (select id from s) where id = ${json.id}`;
    expect((await call(`/api/v1/media/${json.id}`)).status).toBe(404);
    expect((await call(`/api/v1/media/${json.id}`, { method: "DELETE" })).status).toBe(422);
    expect(existsSync(diskPath(json.url))).toBe(true);
  });
});

describe("orphans and the admin CLI", () => {
  test("unattached uploads older than a day are removed, files then rows; recent and attached ones stay", async () => {
    const old = await upload(1, { file: [new Uint8Array(await raw(10, 10).png().toBuffer()), "old.png"] });
    const recent = await upload(1, { file: [new Uint8Array(await raw(10, 10).png().toBuffer()), "new.png"] });
    await context.sql`update media_attachments set created_at = now() - interval '25 hours' where id = ${old.json.id}`;

    const usage = await runWoolly(["admin", "media", "usage", "--json"], { PAPERCLIP_ROOT_PATH: root });
    expect(usage.code).toBe(0);
    const rows = JSON.parse(usage.stdout) as { origin: string; type: string; count: number; bytes: number }[];
    expect(rows.find((r) => r.origin === "local" && r.type === "image")!.bytes).toBeGreaterThan(0);

    const dry = await runWoolly(["admin", "media", "remove-orphans", "--dry-run"], { PAPERCLIP_ROOT_PATH: root });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^Would remove 1 unattached upload\(s\) older than 24 h/);
    expect(existsSync(diskPath(old.json.url))).toBe(true);

    const swept = await removeOrphans(context);
    expect(swept.count).toBe(1);
    expect(existsSync(diskPath(old.json.url))).toBe(false);
    expect(existsSync(diskPath(old.json.preview_url))).toBe(false);
    expect(existsSync(diskPath(recent.json.url))).toBe(true);
    expect((await context.sql`select 1 from media_attachments where id = ${old.json.id}`).length).toBe(0);

    const cli = await runWoolly(["admin", "media", "remove-orphans"], { PAPERCLIP_ROOT_PATH: root });
    expect(cli.stdout).toMatch(/^Removed 0 unattached/);
  });
});
