/**
 * The one way the rest of the code obtains sharp: `const sharp = await loadSharp()`.
 *
 * Never `import sharp from "sharp"` anywhere else (scripts/build.ts fails the build if you do): sharp's
 * module body loads its native addon as soon as it is evaluated, so a static import would make every role
 * pay for libvips at start, and in the compiled binary it would crash before the addon was extracted.
 *
 * From source (`bun src/main.ts`) this is a plain dynamic import of sharp from node_modules.
 *
 * From the compiled binary (scripts/build.ts), the addon (`sharp-linux-x64-<v>.node`) and libvips
 * (`libvips-cpp.so.<v>`) are embedded as files. The OS cannot dlopen a file that lives inside our
 * executable, so on first use we copy both into a cache directory, keeping the `@img/<pkg>/lib/` layout
 * so that the addon's RPATH ($ORIGIN/../../sharp-libvips-linux-x64/lib) finds libvips, then tell sharp's
 * loader (patched at build time by a Bun plugin) where the addon is through a global.
 *
 * Cache directory: `cacheDir` option, else $SHARP_CACHE_DIR, else $XDG_CACHE_HOME/woolly/sharp, else
 * ~/.cache/woolly/sharp; inside it one subdirectory per sharp version and platform (`0.35.5-linux-x64`),
 * so an upgraded binary never reuses stale files. Files are written under a unique temporary name and
 * renamed into place, so several processes starting at once are safe (rename is atomic; the contents
 * are identical). Cost: about 19 MB written once per sharp version.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

export type Sharp = typeof import("sharp").default;

/** Must match SHARP_ADDON_GLOBAL in scripts/build.ts (the loader patch reads it). */
const SHARP_ADDON_GLOBAL = "__WOOLLY_SHARP_ADDON_PATH__";

/** What scripts/build.ts embedded, injected as a JSON string with `define`. */
interface SharpManifest {
  sharpVersion: string;
  platform: string;
  /** In the order they must be written: libvips first, the addon last. */
  files: Array<{ name: string; dir: string }>;
  /** Path of the addon relative to the cache directory, e.g. "@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.5.node". */
  addon: string;
}

// Replaced by a string literal at build time (scripts/build.ts); undeclared when run from source.
declare const WOOLLY_SHARP_MANIFEST: string | undefined;

export interface LoadSharpOptions {
  /** Overrides $SHARP_CACHE_DIR (e.g. the value from an --env-file that is not in process.env). */
  cacheDir?: string;
}

let loading: Promise<Sharp> | undefined;

export function loadSharp(options: LoadSharpOptions = {}): Promise<Sharp> {
  loading ??= load(options).catch((err: unknown) => {
    loading = undefined; // let a later call retry (e.g. after the operator fixed the cache dir)
    throw err;
  });
  return loading;
}

async function load(options: LoadSharpOptions): Promise<Sharp> {
  if (Bun.isStandaloneExecutable) {
    const manifest = readManifest();
    if (manifest) {
      const addonPath = await extractEmbeddedSharp(manifest, sharpCacheRoot(options.cacheDir));
      (globalThis as Record<string, unknown>)[SHARP_ADDON_GLOBAL] = addonPath;
    }
    // Without a manifest the binary was not built by scripts/build.ts; sharp's own loader will then
    // fail with its usual "Could not load the sharp module" message.
  }
  const mod = await import("sharp");
  return mod.default;
}

function readManifest(): SharpManifest | undefined {
  if (typeof WOOLLY_SHARP_MANIFEST !== "string" || WOOLLY_SHARP_MANIFEST === "") return undefined;
  return JSON.parse(WOOLLY_SHARP_MANIFEST) as SharpManifest;
}

/** The directory under which versioned sharp files are cached (see the module comment). */
export function sharpCacheRoot(override?: string, env: Record<string, string | undefined> = process.env): string {
  const explicit = override?.trim() || env.SHARP_CACHE_DIR?.trim();
  if (explicit) return resolve(explicit);
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg && isAbsolute(xdg)) return join(xdg, "woolly", "sharp");
  return join(homedir(), ".cache", "woolly", "sharp");
}

async function extractEmbeddedSharp(manifest: SharpManifest, root: string): Promise<string> {
  const dir = join(root, `${manifest.sharpVersion}-${manifest.platform}`);
  const embedded = new Map<string, Blob>();
  for (const blob of Bun.embeddedFiles) embedded.set((blob as Blob & { name: string }).name, blob);

  try {
    for (const file of manifest.files) {
      const blob = embedded.get(file.name);
      if (!blob) throw new Error(`${file.name} is not embedded in this binary (rebuild with scripts/build.ts)`);
      const targetDir = join(dir, file.dir);
      const target = join(targetDir, file.name);
      if (sizeOf(target) === blob.size) continue; // already extracted (by us or a concurrent process)
      mkdirSync(targetDir, { recursive: true });
      const tmp = `${target}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
      try {
        const written = await Bun.write(tmp, blob);
        if (written !== blob.size) throw new Error(`short write to ${tmp} (${written} of ${blob.size} bytes)`);
        chmodSync(tmp, 0o755);
        renameSync(tmp, target);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      `sharp: could not extract its native files into ${dir}: ${message}. ` +
        "Set SHARP_CACHE_DIR to a writable directory on a filesystem not mounted noexec.",
      { cause: err },
    );
  }
  return join(dir, manifest.addon);
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/**
 * Proves sharp works in this process: a 64×48 PNG made in memory, resized to 32 px wide WebP, and the
 * output's metadata checked (32×24, webp). Used by `woolly selftest`.
 */
export async function sharpSelfTest(options: LoadSharpOptions = {}): Promise<{ ok: boolean; detail: string }> {
  try {
    const sharp = await loadSharp(options);
    const png = await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 90 } },
    })
      .png()
      .toBuffer();
    const input = await sharp(png).metadata();
    if (input.format !== "png" || input.width !== 64 || input.height !== 48) {
      return { ok: false, detail: `made a ${input.width}x${input.height} ${input.format}, expected a 64x48 png` };
    }
    const webp = await sharp(png).resize({ width: 32 }).webp().toBuffer();
    const output = await sharp(webp).metadata();
    const ok = output.format === "webp" && output.width === 32 && output.height === 24;
    const versions = `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`;
    return {
      ok,
      detail: ok
        ? `64x48 png -> 32x24 webp (${versions})`
        : `64x48 png -> ${output.width}x${output.height} ${output.format}, expected 32x24 webp (${versions})`,
    };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}
