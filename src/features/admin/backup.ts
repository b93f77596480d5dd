/**
 * Backups: one tar file holding `database.dump` (pg_dump's custom format, restored with pg_restore), and
 * `manifest.json` (what the dump is, and every media storage key the database refers to, so the operator
 * can copy or check the media store), plus — local storage only, when asked — the media files under
 * `media/`. Restoring is documented in docs/backup.md.
 *
 * pg_dump gets the connection through PG* environment variables, never on its command line, so the
 * password does not show in the process list.
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../infra/config";
import type { Sql } from "../../infra/db";
import { appliedVersions } from "../../infra/migrate";

export const BACKUP_FORMAT = "woolly-backup";
export const BACKUP_VERSION = 1;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: number;
  created_at: string;
  local_domain: string;
  migrations: string[];
  database: { file: "database.dump"; bytes: number };
  media: { storage: "local" | "s3"; included: boolean; keys: string[] };
}

/** Every storage key the database points at: attachments (original, preview, pending upload) and profile images. */
export async function mediaKeys(sql: Sql): Promise<string[]> {
  const rows = await sql<{ key: string }[]>`
    select file_key as key from media_attachments where file_key is not null
    union select small_key from media_attachments where small_key is not null
    union select upload_key from media_attachments where upload_key is not null
    union select avatar_key from accounts where avatar_key is not null
    union select header_key from accounts where header_key is not null`;
  const keys = new Set(rows.map((r) => r.key));
  // An animated profile image also has a derived still (see media/profile-images.ts stillKeyOf).
  for (const key of [...keys]) if (key.endsWith(".gif") && key.includes("/original/")) keys.add(key.replace("/original/", "/static/").replace(/\.gif$/, ".png"));
  return [...keys].sort();
}

/** PG* variables for libpq tools from a postgres:// URL (host may also come as ?host=/socket/dir). */
export function libpqEnv(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = {};
  const host = url.searchParams.get("host") ?? url.hostname;
  if (host) env.PGHOST = decodeURIComponent(host);
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  env.PGDATABASE = decodeURIComponent(url.pathname.replace(/^\//, ""));
  const sslmode = url.searchParams.get("sslmode");
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

async function run(command: string[], env: Record<string, string>, what: string): Promise<void> {
  const proc = Bun.spawn(command, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" / ")}`);
}

/**
 * Write the backup to `file` (a tar). The dump is taken in one snapshot by pg_dump; the manifest's keys are
 * read just before, so a media key added in between is in the dump but not the manifest (harmless: the
 * manifest is a checklist, the dump is the truth).
 */
export async function createBackup(sql: Sql, config: Config, file: string, options: { includeMedia: boolean }): Promise<BackupManifest> {
  const storage = config.media.s3 ? "s3" : "local";
  if (options.includeMedia && storage !== "local") throw new Error("--include-media works with local storage only; copy the S3 bucket with your provider's tools");
  const work = await mkdtemp(join(tmpdir(), "woolly-backup-"));
  try {
    const keys = await mediaKeys(sql);
    const migrations = [...(await appliedVersions(sql))].sort();
    const dump = join(work, "database.dump");
    await run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", `--file=${dump}`], libpqEnv(config.db.url), "pg_dump");
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created_at: new Date().toISOString(),
      local_domain: config.localDomain,
      migrations,
      database: { file: "database.dump", bytes: (await stat(dump)).size },
      media: { storage, included: options.includeMedia, keys },
    };
    await Bun.write(join(work, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    await run(["tar", "-cf", file, "-C", work, "manifest.json", "database.dump"], {}, "tar");
    if (options.includeMedia) {
      // Only the files that exist: a key whose file was lost stays listed in the manifest, it is not fatal here.
      const present: string[] = [];
      for (const key of keys) if (await Bun.file(join(config.media.rootPath, key)).exists()) present.push(key);
      const list = join(work, "media-files.txt");
      await Bun.write(list, present.join("\n") + (present.length ? "\n" : ""));
      // Appended in a second pass so that only the media paths get the media/ prefix.
      await run(["tar", "-rf", file, "--transform=s,^,media/,", "-C", config.media.rootPath, "-T", list], {}, "tar");
    }
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
