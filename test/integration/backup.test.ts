/**
 * Backup and restore round trip, the way docs/backup.md tells an operator to do it: `woolly admin backup`,
 * then on "the new machine" an empty database, `tar -x`, `pg_restore`, `woolly migrate --status`, and the
 * web role started against it: the user signs in through the real OAuth pages and reads their posts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { buildWebApp } from "../../src/api/app";
import { libpqEnv, type BackupManifest } from "../../src/features/admin/backup";
import { inProcessApi } from "../helpers/api";
import { Browser, pkce } from "../helpers/browser";
import { freePort, runWoolly, spawnWoolly, waitForHealthy } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser, TEST_PASSWORD } from "../helpers/users";

let context: TestContext;
let dir: string;
let mediaRoot: string;
const restoredDb = `woolly_restore_${Date.now().toString(36)}_${process.pid}`;
const adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "op-backup-"));
  mediaRoot = join(dir, "media");
  await mkdir(mediaRoot);
  context = await testContext({ PAPERCLIP_ROOT_PATH: mediaRoot });
});
afterAll(async () => {
  await admin.unsafe(`drop database if exists ${restoredDb} with (force)`).catch(() => {});
  await admin.end({ timeout: 1 });
  await context.close();
  await rm(dir, { recursive: true, force: true });
});

async function exec(command: string[], env: Record<string, string> = {}, cwd?: string) {
  const proc = Bun.spawn(command, { env: { ...process.env, ...env }, cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

test("back up, restore into an empty database, run the instance: the user signs in and reads their posts", async () => {
  // ---- the old machine: a user with a post and a media file ----
  const { account, token } = await makeTestUser(context, "op_backup", { scopes: "read write" });
  const call = inProcessApi(() => app);
  const app = buildWebApp(context);
  const posted = await call("POST", "/api/v1/statuses", { token, json: { status: "op backup round trip", visibility: "public" } });
  expect(posted.status).toBe(200);
  const key = `media_attachments/files/op/original/op-backup-${Date.now()}.png`;
  await Bun.write(join(mediaRoot, key), new Uint8Array([137, 80, 78, 71, 1, 2, 3]));
  await context.sql`insert into media_attachments (account_id, type, file_key, content_type, file_size) values (${account.id}, 'image', ${key}, 'image/png', 7)`;

  const file = join(dir, "woolly.tar");
  const backup = await runWoolly(["admin", "backup", file, "--include-media"], { PAPERCLIP_ROOT_PATH: mediaRoot }, 60_000);
  expect(backup.stderr).toBe("");
  expect(backup.code).toBe(0);
  expect(backup.stdout).toContain("backup written to");
  // Refuses to overwrite without --force.
  expect((await runWoolly(["admin", "backup", file])).code).toBe(2);

  // ---- the new machine: step by step as docs/backup.md ----
  const restoreDir = join(dir, "restore");
  await mkdir(restoreDir);
  const untar = await exec(["tar", "-xf", file, "-C", restoreDir]);
  expect(untar.code).toBe(0);
  const manifest = (await Bun.file(join(restoreDir, "manifest.json")).json()) as BackupManifest;
  expect(manifest).toMatchObject({ format: "woolly-backup", version: 1, local_domain: context.config.localDomain, media: { storage: "local", included: true } });
  expect(manifest.media.keys).toContain(key);
  expect(manifest.migrations).toContain("0018_ops");
  expect(await Bun.file(join(restoreDir, "media", key)).bytes()).toEqual(new Uint8Array([137, 80, 78, 71, 1, 2, 3]));

  await admin.unsafe(`create database ${restoredDb}`);
  const url = new URL(adminUrl);
  url.pathname = `/${restoredDb}`;
  const restored = await exec(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", `--dbname=${restoredDb}`, join(restoreDir, "database.dump")], { ...libpqEnv(url.toString()) });
  expect(restored.stderr).toBe("");
  expect(restored.code).toBe(0);
  const status = await runWoolly(["migrate", "--status"], { DATABASE_URL: url.toString() });
  expect(status.code).toBe(0);
  expect(status.stdout).not.toMatch(/pending/i);

  const port = await freePort();
  const web = spawnWoolly(["web", "--port", String(port), "--bind", "127.0.0.1"], { DATABASE_URL: url.toString(), PAPERCLIP_ROOT_PATH: join(restoreDir, "media") });
  try {
    await waitForHealthy(port, 30_000);
    const base = `http://127.0.0.1:${port}`;
    // A token issued before the backup still works: tokens are in the database.
    const old = await fetch(`${base}/api/v1/accounts/verify_credentials`, { headers: { authorization: `Bearer ${token}` } });
    expect(old.status).toBe(200);

    // A fresh sign-in through the HTML pages, then read the posts.
    const redirect = "https://client.example/callback";
    const appRes = await fetch(`${base}/api/v1/apps`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ client_name: "op restore", redirect_uris: redirect, scopes: "read" }) });
    const client = (await appRes.json()) as { client_id: string; client_secret: string };
    const { verifier, challenge } = pkce();
    const query = new URLSearchParams({ response_type: "code", client_id: client.client_id, redirect_uri: redirect, scope: "read", code_challenge: challenge, code_challenge_method: "S256" });
    const browser = new Browser(base, { email: "op_backup@example.com", password: TEST_PASSWORD });
    const code = (await browser.authorize(`/oauth/authorize?${query}`)).searchParams.get("code");
    expect(code).toBeTruthy();
    const tokenRes = await fetch(`${base}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code: code!, client_id: client.client_id, client_secret: client.client_secret, redirect_uri: redirect, code_verifier: verifier }),
    });
    expect(tokenRes.status).toBe(200);
    const fresh = ((await tokenRes.json()) as { access_token: string }).access_token;
    const statuses = await fetch(`${base}/api/v1/accounts/${account.id}/statuses`, { headers: { authorization: `Bearer ${fresh}` } });
    expect(statuses.status).toBe(200);
    const list = (await statuses.json()) as { id: string; content: string }[];
    expect(list.map((s) => s.id)).toContain(posted.json.id);
    expect(list.find((s) => s.id === posted.json.id)!.content).toContain("op backup round trip");
  } finally {
    web.kill("SIGTERM");
    await web.exited;
  }
});
