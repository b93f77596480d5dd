/**
 * `woolly admin emoji export`: every local emoji's image plus a manifest.json (shortcode, category, file,
 * visible_in_picker, disabled) in one .tar.gz, as tootctl's `emoji export` hands the operator an archive.
 * The images keep their shortcode as file name, so `emoji import` of the unpacked directory restores them.
 *
 * The tar is written here (POSIX ustar, regular files only): a few lines instead of a dependency, and every
 * name is a checked shortcode, so no path or long-name cases arise.
 */
import type { AppContext } from "../../infra/context";
import { storageFor } from "../../infra/storage";
import * as store from "./store";

const BLOCK = 512;

function header(name: string, size: number, mtime: Date): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, length: number, value: string) => block.set(new TextEncoder().encode(value).subarray(0, length), offset);
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, "0") + "\0";
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(Math.floor(mtime.getTime() / 1000), 12));
  put(148, 8, "        "); // the checksum counts its own field as spaces
  put(156, 1, "0");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/** A ustar archive of (name, bytes) entries. */
export function tarArchive(entries: { name: string; bytes: Uint8Array; mtime: Date }[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    parts.push(header(entry.name, entry.bytes.length, entry.mtime), entry.bytes);
    const pad = (BLOCK - (entry.bytes.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The local emojis as a gzipped tar (images + manifest.json); `missing` names images the store lacks. */
export async function exportLocalEmojis(context: Pick<AppContext, "sql" | "config">): Promise<{ archive: Uint8Array; count: number; missing: string[] }> {
  const storage = storageFor(context.config);
  const entries: { name: string; bytes: Uint8Array; mtime: Date }[] = [];
  const manifest: { shortcode: string; category: string | null; file: string; visible_in_picker: boolean; disabled: boolean }[] = [];
  const missing: string[] = [];
  for (const row of await store.listLocal(context.sql)) {
    const body = await storage.get(row.image_key!);
    if (!body) {
      missing.push(row.shortcode);
      continue;
    }
    const bytes = new Uint8Array(await new Response(body).arrayBuffer());
    const file = `${row.shortcode}.${row.image_key!.split(".").pop()}`;
    entries.push({ name: file, bytes, mtime: row.updated_at });
    manifest.push({ shortcode: row.shortcode, category: row.category, file, visible_in_picker: row.visible_in_picker, disabled: row.disabled });
  }
  entries.push({ name: "manifest.json", bytes: new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"), mtime: new Date() });
  return { archive: Bun.gzipSync(tarArchive(entries)), count: manifest.length, missing };
}
