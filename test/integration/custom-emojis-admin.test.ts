/**
 * The custom emojis admin page over plain HTTP (a signed-in browser with cookies, no JavaScript) and the
 * `woolly admin emoji export` / `purge --remote-only` commands (the real CLI as a child process): who may
 * use the page, CSRF, upload checks, enable / disable / picker / category / delete, the remote list by domain.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWebApp } from "../../src/api/app";
import { Browser, hiddenFields } from "../helpers/browser";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser, TEST_PASSWORD } from "../helpers/users";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

let context: TestContext;
let server: ReturnType<ReturnType<typeof buildWebApp>["listen"]>;
let base: string;
let dir: string;

beforeAll(async () => {
  context = await testContext();
  server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${server.server!.port}`;
  await makeTestUser(context, "ema_admin", { role: "Admin" });
  await makeTestUser(context, "ema_mod", { role: "Moderator" });
  await makeTestUser(context, "ema_user");
  dir = await mkdtemp(join(tmpdir(), "ema-"));
});

afterAll(async () => {
  await context.sql`delete from custom_emojis where shortcode like 'ema\\_%'`;
  await server.stop(true);
  await context.close();
  await rm(dir, { recursive: true, force: true });
});

async function signedIn(username: string): Promise<Browser> {
  const browser = new Browser(base, { email: `${username}@example.com`, password: TEST_PASSWORD });
  const form = await (await browser.request("/auth/sign_in")).text();
  const response = await browser.post("/auth/sign_in", { ...hiddenFields(form), email: `${username}@example.com`, password: TEST_PASSWORD });
  expect(response.status).toBe(303);
  return browser;
}

const token = async (browser: Browser) => hiddenFields(await (await browser.request("/admin/custom_emojis")).text()).authenticity_token!;

function upload(browser: Browser, fields: Record<string, string>, file?: { bytes: Uint8Array | string; name: string }) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (file) form.set("image", new Blob([file.bytes]), file.name);
  return browser.request("/admin/custom_emojis", { method: "POST", body: form });
}

const listed = async () => ((await (await fetch(`${base}/api/v1/custom_emojis`)).json()) as { shortcode: string; category: string | null; visible_in_picker: boolean }[]).filter((e) => e.shortcode.startsWith("ema_"));
const rowOf = async (shortcode: string) => (await context.sql<{ id: string; disabled: boolean }[]>`select id::text, disabled from custom_emojis where shortcode = ${shortcode}`)[0]!;

describe("admin custom emojis page", () => {
  test("admins only: not signed in → sign in; users and moderators 403", async () => {
    const anonymous = await fetch(`${base}/admin/custom_emojis`, { redirect: "manual" });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/auth/sign_in?return_to=%2Fadmin%2Fcustom_emojis");
    expect((await (await signedIn("ema_user")).request("/admin/custom_emojis")).status).toBe(403);
    const moderator = await signedIn("ema_mod");
    expect((await moderator.request("/admin/custom_emojis")).status).toBe(403);
    expect((await upload(moderator, { shortcode: "ema_mod" }, { bytes: PNG, name: "a.png" })).status).toBe(403);
    expect(await listed()).toEqual([]);
  });

  test("upload: CSRF checked first; PNG stored; fake and oversized images refused with a message", async () => {
    const admin = await signedIn("ema_admin");
    expect((await upload(admin, { shortcode: "ema_smile", category: "" }, { bytes: PNG, name: "s.png" })).status).toBe(403);
    expect((await upload(admin, { shortcode: "ema_smile", category: "", authenticity_token: "x".repeat(43) }, { bytes: PNG, name: "s.png" })).status).toBe(403);
    expect(await listed()).toEqual([]);

    const ok = await upload(admin, { shortcode: "ema_smile", category: "Faces", authenticity_token: await token(admin) }, { bytes: PNG, name: "s.png" });
    expect(ok.status).toBe(303);
    expect(await listed()).toMatchObject([{ shortcode: "ema_smile", category: "Faces", visible_in_picker: true }]);

    const fake = await upload(admin, { shortcode: "ema_fake", category: "", authenticity_token: await token(admin) }, { bytes: "<svg onload=alert(1)>", name: "f.png" });
    expect(fake.status).toBe(422);
    expect(await fake.text()).toContain("The image must be a PNG, GIF or WebP file");
    const huge = await upload(admin, { shortcode: "ema_huge", category: "", authenticity_token: await token(admin) }, { bytes: Buffer.concat([PNG, Buffer.alloc(300 * 1024)]), name: "h.png" });
    expect(huge.status).toBe(422);
    expect(await huge.text()).toContain("larger than 256 KiB");
    const badName = await upload(admin, { shortcode: "ema bad!", category: "", authenticity_token: await token(admin) }, { bytes: PNG, name: "b.png" });
    expect(badName.status).toBe(422);
    const none = await upload(admin, { shortcode: "ema_none", category: "", authenticity_token: await token(admin) });
    expect(none.status).toBe(422);
    const again = await upload(admin, { shortcode: "EMA_SMILE", category: "", authenticity_token: await token(admin) }, { bytes: PNG, name: "s.png" });
    expect(await again.text()).toContain("already exists");
    expect((await listed()).map((e) => e.shortcode)).toEqual(["ema_smile"]);
  });

  test("disable / enable, hide from the picker, category, delete", async () => {
    const admin = await signedIn("ema_admin");
    const { id } = await rowOf("ema_smile");
    const change = async (fields: Record<string, string>) => admin.post(`/admin/custom_emojis/${id}/change`, { authenticity_token: await token(admin), ...fields });
    expect((await admin.post(`/admin/custom_emojis/${id}/change`, { action: "disable" })).status).toBe(403);
    expect((await change({ action: "disable" })).status).toBe(303);
    expect(await listed()).toEqual([]);
    expect((await change({ action: "enable" })).status).toBe(303);
    expect((await change({ action: "hide" })).status).toBe(303);
    expect((await change({ action: "category", category: "  Smileys " })).status).toBe(303);
    expect(await listed()).toMatchObject([{ shortcode: "ema_smile", category: "Smileys", visible_in_picker: false }]);
    expect((await change({ action: "explode" })).status).toBe(422);
    expect((await admin.post(`/admin/custom_emojis/999999/change`, { authenticity_token: await token(admin), action: "hide" })).status).toBe(404);
    expect((await admin.post(`/admin/custom_emojis/abc/delete`, { authenticity_token: await token(admin) })).status).toBe(404);
    expect((await admin.post(`/admin/custom_emojis/${id}/delete`, { authenticity_token: await token(admin) })).status).toBe(303);
    expect(await listed()).toEqual([]);
  });

  test("remote emojis: listed by domain; the filter keeps other domains out", async () => {
    await context.sql`insert into custom_emojis (shortcode, domain, image_url) values
      ('ema_r1', 'ema-one.example', 'https://ema-one.example/r1.png'), ('ema_r2', 'ema-two.example', 'https://ema-two.example/r2.png')`;
    const admin = await signedIn("ema_admin");
    const all = await (await admin.request("/admin/custom_emojis?scope=remote")).text();
    expect(all).toContain(":ema_r1:");
    expect(all).toContain(":ema_r2:");
    const one = await (await admin.request("/admin/custom_emojis?scope=remote&domain=EMA-ONE.example")).text();
    expect(one).toContain(":ema_r1:");
    expect(one).not.toContain(":ema_r2:");
    expect(one).toContain('src="https://ema-one.example/r1.png"');
    const local = await (await admin.request("/admin/custom_emojis")).text();
    expect(local).not.toContain(":ema_r1:");
    expect((await admin.request("/admin/custom_emojis?scope=everything")).status).toBe(422);
    expect((await admin.request("/admin/custom_emojis?scope=remote&domain=%3Cscript%3E")).status).toBe(422);
  });
});

describe("woolly admin emoji export / purge --remote-only", () => {
  test("export writes images + manifest.json as a .tar.gz; purge --remote-only keeps local ones", async () => {
    const admin = await signedIn("ema_admin");
    expect((await upload(admin, { shortcode: "ema_keep", category: "Kept", authenticity_token: await token(admin) }, { bytes: PNG, name: "k.png" })).status).toBe(303);
    const exported = await runWoolly(["admin", "emoji", "export", dir]);
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    const archive = join(dir, "export.tar.gz");
    expect(await runWoolly(["admin", "emoji", "export", archive]).then((r) => r.code)).toBe(2);
    const unpacked = join(dir, "out");
    await Bun.$`mkdir -p ${unpacked} && tar -xzf ${archive} -C ${unpacked}`.quiet();
    const manifest = JSON.parse(await readFile(join(unpacked, "manifest.json"), "utf8")) as { shortcode: string; category: string; file: string }[];
    expect(manifest.find((m) => m.shortcode === "ema_keep")).toMatchObject({ category: "Kept", file: "ema_keep.png" });
    expect(Buffer.compare(await readFile(join(unpacked, "ema_keep.png")), PNG)).toBe(0);

    const purged = await runWoolly(["admin", "emoji", "purge", "--remote-only"]);
    expect(purged.code).toBe(0);
    const [remote] = await context.sql`select count(*)::int as n from custom_emojis where domain is not null`;
    expect(remote!.n).toBe(0);
    expect((await listed()).map((e) => e.shortcode)).toEqual(["ema_keep"]);
  });
});
