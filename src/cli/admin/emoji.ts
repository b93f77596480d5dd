/**
 * `woolly admin emoji import|list|remove|purge|export`: custom emojis (tootctl emoji). import takes
 * image files or directories of them (PNG, GIF, WebP; the file name without extension is the shortcode,
 * after an optional --prefix); each file is checked on its own, so one bad file is reported and skipped
 * while the others are imported. The exit code is 1 when any file was refused. export writes the local
 * emojis (images + manifest.json) as a .tar.gz; purge --remote-only forgets other servers' emojis only.
 */
import { readdir, stat, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { exportLocalEmojis } from "../../features/custom-emojis/export";
import { importEmoji, listLocalEmojis, purgeRemoteEmojis, removeEmojis, renderCustomEmoji, MAX_EMOJI_BYTES } from "../../features/custom-emojis/service";
import { ApiError } from "../../infra/errors";
import { CliError, EXIT_USAGE, type Group } from "../command";
import { withDatabase } from "./database";

const IMAGE_EXTENSIONS = new Set([".png", ".gif", ".webp"]);
/** A directory of emoji packs can be large, but not unbounded. */
const MAX_FILES = 10_000;

async function imageFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new CliError(`${path}: no such file or directory`, EXIT_USAGE);
    if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort()) if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) files.push(join(path, name));
    } else {
      files.push(path);
    }
    if (files.length > MAX_FILES) throw new CliError(`more than ${MAX_FILES} files; import them in parts`, EXIT_USAGE);
  }
  return files;
}

export const emojiGroup: Group = {
  name: "emoji",
  summary: "Import, list, export and remove custom emojis",
  commands: [
    {
      name: "import",
      summary: "Import PNG / GIF / WebP files (or directories of them); the file name is the shortcode",
      synopsis: "PATH... [--prefix P] [--category C] [--overwrite]",
      positionals: { min: 1, max: 1000 },
      options: { prefix: { type: "string" }, category: { type: "string" }, overwrite: { type: "boolean" } },
      optionHelp: {
        prefix: "put before every shortcode (e.g. blob_)",
        category: "picker category of the imported emojis",
        overwrite: "replace the image of emojis that already exist (default: keep them)",
      },
      async run({ positionals, values }) {
        const files = await imageFiles(positionals);
        const prefix = typeof values.prefix === "string" ? values.prefix : "";
        const category = typeof values.category === "string" ? values.category : null;
        const counts = { created: 0, replaced: 0, skipped: 0, failed: 0 };
        await withDatabase(async (sql, config) => {
          for (const file of files) {
            const shortcode = prefix + basename(file, extname(file));
            try {
              const size = (await stat(file)).size;
              // Refused before reading, so a huge file is never loaded.
              if (size > MAX_EMOJI_BYTES) throw ApiError.unprocessable(`The image is larger than ${MAX_EMOJI_BYTES / 1024} KiB`);
              const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
              const result = await importEmoji({ sql, config }, { shortcode, bytes, category, overwrite: values.overwrite === true });
              counts[result.outcome] += 1;
              if (result.outcome === "skipped") console.log(`:${shortcode}: exists, kept (use --overwrite to replace)`);
            } catch (error) {
              if (!(error instanceof ApiError)) throw error;
              counts.failed += 1;
              console.error(`${file}: ${error.message}`);
            }
          }
        });
        console.log(`${counts.created} imported, ${counts.replaced} replaced, ${counts.skipped} kept, ${counts.failed} refused`);
        return counts.failed > 0 ? 1 : 0;
      },
    },
    {
      name: "list",
      summary: "List the local custom emojis",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print CustomEmoji entities as JSON" },
      async run({ values }) {
        await withDatabase(async (sql, config) => {
          const rows = await listLocalEmojis({ sql });
          if (values.json) console.log(JSON.stringify(rows.map((row) => renderCustomEmoji(config, row)), null, 2));
          else for (const row of rows) console.log(`:${row.shortcode}:\t${row.category ?? "-"}\t${row.image_size} bytes${row.disabled ? "\tdisabled" : ""}`);
        });
        return 0;
      },
    },
    {
      name: "remove",
      summary: "Remove one custom emoji and its image",
      synopsis: "SHORTCODE",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const removed = await withDatabase((sql, config) => removeEmojis({ sql, config }, positionals[0]!.replace(/^:|:$/g, "")));
        if (removed === 0) throw new CliError(`no custom emoji :${positionals[0]}:`, EXIT_USAGE);
        console.log(`removed :${positionals[0]!.replace(/^:|:$/g, "")}:`);
        return 0;
      },
    },
    {
      name: "purge",
      summary: "Remove every local custom emoji and its image (or, with --remote-only, every remote one)",
      options: { "remote-only": { type: "boolean" } },
      optionHelp: { "remote-only": "remove only other servers' emojis (their images were never stored here)" },
      async run({ values }) {
        if (values["remote-only"] === true) {
          const removed = await withDatabase((sql) => purgeRemoteEmojis({ sql }));
          console.log(`${removed} remote custom emojis removed`);
          return 0;
        }
        const removed = await withDatabase((sql, config) => removeEmojis({ sql, config }));
        console.log(`${removed} custom emojis removed`);
        return 0;
      },
    },
    {
      name: "export",
      summary: "Write the local custom emojis (images + manifest.json) to a .tar.gz",
      synopsis: "DIR|FILE [--overwrite]",
      positionals: { min: 1, max: 1 },
      options: { overwrite: { type: "boolean" } },
      optionHelp: { overwrite: "replace the file when it exists" },
      async run({ positionals, values }) {
        const target = positionals[0]!;
        const info = await stat(target).catch(() => undefined);
        // A directory gets export.tar.gz inside it (tootctl's name); anything else is the file itself.
        const file = info?.isDirectory() ? join(target, "export.tar.gz") : target;
        if (!values.overwrite && (await stat(file).catch(() => undefined))) throw new CliError(`${file} exists (use --overwrite to replace it)`, EXIT_USAGE);
        const result = await withDatabase((sql, config) => exportLocalEmojis({ sql, config }));
        await writeFile(file, result.archive);
        for (const shortcode of result.missing) console.error(`:${shortcode}: its image is missing from storage, left out`);
        console.log(`${result.count} custom emojis exported to ${file}`);
        return result.missing.length > 0 ? 1 : 0;
      },
    },
  ],
};
