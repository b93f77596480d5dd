/** Avatars and headers through update_credentials: processed, stored, served, replaced and removed. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { loadSharp } from "../../src/infra/sharp";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let token: string;

beforeAll(async () => {
  context = await testContext({ PAPERCLIP_ROOT_PATH: join(await mkdtemp(join(tmpdir(), "woolly-avatars-")), "media") });
  app = buildWebApp(context);
  const { account } = await createLocalAccount(context.sql, context.config, { username: "pi_alice", email: "pi_alice@example.com", password: "correct horse battery", confirmed: true });
  token = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write" })).token;
});
afterAll(() => context.close());

async function png(width: number, height: number): Promise<Blob> {
  const sharp = await loadSharp();
  return new Blob([await sharp({ create: { width, height, channels: 3, background: "#3d3db8" } }).png().toBuffer()], { type: "image/png" });
}

async function update(fields: Record<string, Blob | string>) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value instanceof Blob) form.append(name, value, "upload.bin");
    else form.append(name, value);
  }
  const response = await app.handle(new Request("http://localhost/api/v1/accounts/update_credentials", { method: "PATCH", headers: { authorization: `Bearer ${token}` }, body: form }));
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

async function fetchImage(url: string) {
  const response = await app.handle(new Request(url.replace(context.config.baseUrl, "http://localhost")));
  expect(response.status).toBe(200);
  return (await loadSharp())(Buffer.from(await response.arrayBuffer())).metadata();
}

test("an avatar and a header are cropped to Mastodon's sizes and served", async () => {
  const { status, json } = await update({ avatar: await png(800, 600), header: await png(3000, 1200) });
  expect(status).toBe(200);
  expect(json.avatar).toContain("/system/accounts/avatars/");
  expect(json.avatar_static).toBe(json.avatar);
  const avatar = await fetchImage(json.avatar);
  expect([avatar.width, avatar.height]).toEqual([400, 400]);
  const header = await fetchImage(json.header);
  expect([header.width, header.height]).toEqual([1500, 500]);
});

test("an animated GIF avatar stays animated and gets a still for avatar_static; the old files are removed", async () => {
  const before = (await update({ display_name: "PI" })).json.avatar as string;
  const sharp = await loadSharp();
  const frames = await Promise.all(["#f00", "#0f0", "#00f"].map((c) => sharp({ create: { width: 64, height: 64, channels: 3, background: c } }).png().toBuffer()));
  const gif = await sharp(frames, { join: { animated: true } }).gif().toBuffer();
  const { status, json } = await update({ avatar: new Blob([gif]) });
  expect(status).toBe(200);
  expect(json.avatar).toEndWith(".gif");
  expect(json.avatar_static).toEndWith(".png");
  expect((await fetchImage(json.avatar)).pages).toBe(3);
  expect((await fetchImage(json.avatar_static)).format).toBe("png");
  const old = await app.handle(new Request(before.replace(context.config.baseUrl, "http://localhost")));
  expect(old.status).toBe(404);
});

test("a file that is not an image is a 422 and changes nothing; DELETE /api/v1/profile/avatar restores the default", async () => {
  const current = (await update({})).json;
  const refused = await update({ avatar: new Blob(["not an image at all, just text"]), display_name: "Changed?" });
  expect(refused.status).toBe(422);
  expect(typeof refused.json.error).toBe("string");
  const after = (await update({})).json;
  expect(after.avatar).toBe(current.avatar);
  expect(after.display_name).toBe(current.display_name);

  const removed = await app.handle(new Request("http://localhost/api/v1/profile/avatar", { method: "DELETE", headers: { authorization: `Bearer ${token}` } }));
  expect(removed.status).toBe(200);
  expect(((await removed.json()) as any).avatar).toEndWith("/avatars/original/missing.png");
});
