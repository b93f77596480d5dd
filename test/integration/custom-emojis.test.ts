/**
 * Custom emojis end to end: `woolly admin emoji import` (the real CLI, as a child process) stores checked
 * images in media storage, /api/v1/custom_emojis lists them for masto.js, the images are served, and
 * overwrite / remove / purge clean up the stored files. Bad files are refused one by one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const GIF = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

let context: TestContext;
let web: ReturnType<typeof buildWebApp>;
let base: string;
let dir: string;

type Emoji = { shortcode: string; url: string; static_url: string; visible_in_picker: boolean; category: string | null };

const listed = async (): Promise<Emoji[]> => ((await (await fetch(`${base}/api/v1/custom_emojis`)).json()) as Emoji[]).filter((e) => e.shortcode.startsWith("ep_"));
/** The stored image behind an emoji URL, fetched from the web role's /system/ route. */
const image = async (url: string) => {
  const response = await fetch(base + new URL(url).pathname);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), type: response.headers.get("content-type") };
};

beforeAll(async () => {
  context = await testContext();
  web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${web.server!.port}`;
  dir = await mkdtemp(join(tmpdir(), "ep-emoji-"));
  await writeFile(join(dir, "ep_smile.png"), PNG);
  await writeFile(join(dir, "ep_wave.gif"), GIF);
  await writeFile(join(dir, "ep_fake.png"), "<svg onload=alert(1)>");
  await writeFile(join(dir, "x.png"), PNG);
  await writeFile(join(dir, "ep_huge.png"), Buffer.concat([PNG, Buffer.alloc(300 * 1024)]));
  await writeFile(join(dir, "notes.txt"), "not an image");
});

afterAll(async () => {
  await web.stop(true);
  await context.close();
  await rm(dir, { recursive: true, force: true });
});

describe("custom emojis", () => {
  let smileUrl: string;

  test("import: good files stored, bad ones refused one by one (exit 1)", async () => {
    const result = await runWoolly(["admin", "emoji", "import", dir, "--category", "Ep Faces"]);
    expect(result.stdout).toContain("2 imported, 0 replaced, 0 kept, 3 refused");
    expect(result.stderr).toContain("ep_fake.png: The image must be a PNG, GIF or WebP file");
    expect(result.stderr).toContain("x.png: Shortcode");
    expect(result.stderr).toContain("ep_huge.png: The image is larger than 256 KiB");
    expect(result.code).toBe(1);
  });

  test("listed for clients (masto.js), matching Mastodon's schema; images served as stored", async () => {
    const client = createRestAPIClient({ url: base });
    const emojis = (await client.v1.customEmojis.list()).filter((e) => e.shortcode.startsWith("ep_"));
    expect(emojis.map((e) => [e.shortcode, e.category, e.visibleInPicker])).toEqual([
      ["ep_smile", "Ep Faces", true],
      ["ep_wave", "Ep Faces", true],
    ]);
    const raw = await listed();
    expectMatchesSchema(raw, arrayOf("CustomEmoji"));
    smileUrl = raw[0]!.url;
    expect(await image(smileUrl)).toEqual({ status: 200, bytes: PNG, type: "image/png" });
    expect((await image(raw[1]!.url)).bytes).toEqual(GIF);
  });

  test("existing shortcodes are kept unless --overwrite, which replaces and deletes the old image", async () => {
    const replacement = join(dir, "again");
    await Bun.write(join(replacement, "ep_smile.gif"), GIF);
    const kept = await runWoolly(["admin", "emoji", "import", replacement]);
    expect([kept.code, kept.stdout]).toEqual([0, ":ep_smile: exists, kept (use --overwrite to replace)\n0 imported, 0 replaced, 1 kept, 0 refused\n"]);
    expect((await listed())[0]!.url).toBe(smileUrl);

    const replaced = await runWoolly(["admin", "emoji", "import", replacement, "--overwrite"]);
    expect([replaced.code, replaced.stdout]).toEqual([0, "0 imported, 1 replaced, 0 kept, 0 refused\n"]);
    const now = (await listed()).find((e) => e.shortcode === "ep_smile")!;
    expect(now.url).not.toBe(smileUrl);
    expect((await image(now.url)).bytes).toEqual(GIF);
    expect((await image(smileUrl)).status).toBe(404);
    // The category is what this import said (none).
    expect(now.category).toBeNull();
  });

  test("list, remove one, purge the rest (images too)", async () => {
    const list = await runWoolly(["admin", "emoji", "list", "--json"]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Emoji[]).map((e) => e.shortcode).filter((s) => s.startsWith("ep_"))).toEqual(["ep_smile", "ep_wave"]);

    const wave = (await listed()).find((e) => e.shortcode === "ep_wave")!;
    const removed = await runWoolly(["admin", "emoji", "remove", ":ep_wave:"]);
    expect([removed.code, removed.stdout]).toEqual([0, "removed :ep_wave:\n"]);
    expect((await image(wave.url)).status).toBe(404);
    expect((await runWoolly(["admin", "emoji", "remove", "ep_wave"])).code).toBe(2);

    const purged = await runWoolly(["admin", "emoji", "purge"]);
    expect(purged.code).toBe(0);
    expect(await listed()).toEqual([]);
  });
});
