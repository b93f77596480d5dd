/**
 * Builds the single executable: `bun scripts/build.ts` → dist/woolly (linux-x64).
 *
 *   bun scripts/build.ts [--entry src/main.ts] [--outfile dist/woolly] [--no-bytecode] [--bytecode-order FILE]
 *
 * - Bun.build with `compile` (target bun-linux-x64), minify, ESM, bytecode (see BYTECODE_DEFAULT), and a
 *   linked source map (embedded zstd-compressed in the binary; only read when an error is printed).
 * - The binary does NOT load .env / bunfig.toml / tsconfig.json / package.json from its working directory
 *   (compile.autoloadDotenv etc. = false, the equivalent of --no-compile-autoload-dotenv): under systemd a
 *   stray .env in the cwd must not change the configuration; use --env-file explicitly.
 * - `define` injects WOOLLY_VERSION ("<package.json version>+<short git sha>[.dirty]", read back by
 *   buildVersion() in src/infra/build-info.ts) and WOOLLY_SHARP_MANIFEST (read by src/infra/sharp.ts).
 * - sharp: its addon (@img/sharp-linux-x64/lib/*.node) and libvips (@img/sharp-libvips-linux-x64/lib/
 *   libvips-cpp.so.*) are embedded as file assets; a plugin patches sharp's loader so it first requires the
 *   addon from the path in globalThis.__WOOLLY_SHARP_ADDON_PATH__, which loadSharp() sets after copying both
 *   files to a cache directory. If sharp's loader changes shape the patch fails the build, not production.
 * - Guard: importing "sharp" anywhere but src/infra/sharp.ts fails the build (see loadSharp()).
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { BunPlugin } from "bun";

const ROOT = resolve(import.meta.dir, "..");

/**
 * Bytecode: measured on the build machine with bench/cold-start.ts, the binary starts markedly faster with
 * it (see docs/benchmarks.md). ESM bytecode requires `compile`, which we always use; top-level await works.
 */
const BYTECODE_DEFAULT = true;

/** Must match COMPILED_ENTRY in src/cli/roles/web-threads.ts. */
const WEB_THREAD_ENTRY = join(ROOT, "src/cli/roles/web-thread.ts");

/** Must match SHARP_ADDON_GLOBAL in src/infra/sharp.ts. */
const SHARP_ADDON_GLOBAL = "__WOOLLY_SHARP_ADDON_PATH__";
const PLATFORM = "linux-x64";

interface Options {
  entry: string;
  outfile: string;
  bytecode: boolean;
  /** Profile(s) recorded with BUN_BYTECODE_ORDER_OUT, for compile.bytecodeOrder (optional). */
  bytecodeOrder: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    entry: join(ROOT, "src/main.ts"),
    outfile: join(ROOT, "dist/woolly"),
    bytecode: BYTECODE_DEFAULT,
    bytecodeOrder: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return resolve(v);
    };
    if (arg === "--entry") options.entry = value();
    else if (arg === "--outfile") options.outfile = value();
    else if (arg === "--bytecode") options.bytecode = true;
    else if (arg === "--no-bytecode") options.bytecode = false;
    else if (arg === "--bytecode-order") options.bytecodeOrder.push(value());
    else throw new Error(`unknown argument ${arg} (expected --entry, --outfile, --bytecode, --no-bytecode, --bytecode-order)`);
  }
  return options;
}

function git(...args: string[]): string | undefined {
  try {
    const result = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
    return result.exitCode === 0 ? result.stdout.toString().trim() : undefined;
  } catch {
    return undefined; // no git on this machine
  }
}

async function computeVersion(): Promise<string> {
  const pkg = (await Bun.file(join(ROOT, "package.json")).json()) as { version: string };
  const sha = git("rev-parse", "--short", "HEAD");
  if (!sha) return pkg.version;
  const dirty = (git("status", "--porcelain", "--untracked-files=no") ?? "") !== "";
  return `${pkg.version}+${sha}${dirty ? ".dirty" : ""}`;
}

interface SharpFiles {
  sharpVersion: string;
  /** Absolute paths of the files to embed (libvips first). */
  assets: string[];
  manifest: {
    sharpVersion: string;
    platform: string;
    files: Array<{ name: string; dir: string }>;
    addon: string;
  };
}

function globOne(dir: string, pattern: string, what: string): string[] {
  const found = existsSync(dir) ? [...new Bun.Glob(pattern).scanSync({ cwd: dir, onlyFiles: true })].sort() : [];
  if (found.length === 0) {
    throw new Error(`${what}: nothing matches ${join(dir, pattern)} (is sharp installed for ${PLATFORM}?)`);
  }
  return found.map((name) => join(dir, name));
}

async function findSharpFiles(): Promise<SharpFiles> {
  const nm = join(ROOT, "node_modules");
  const { version: sharpVersion } = (await Bun.file(join(nm, "sharp/package.json")).json()) as { version: string };
  const addonPkg = `@img/sharp-${PLATFORM}`;
  const libvipsPkg = `@img/sharp-libvips-${PLATFORM}`;
  const libvips = globOne(join(nm, libvipsPkg, "lib"), "libvips-cpp.so.*", "libvips");
  const addons = globOne(join(nm, addonPkg, "lib"), "*.node", "sharp addon");
  if (addons.length !== 1) throw new Error(`sharp addon: expected one .node file, found ${addons.join(", ")}`);
  const addon = addons[0]!;
  // All embedded assets share one flat namespace (their basenames): make sure ours are distinct.
  const names = [...libvips, addon].map((p) => basename(p));
  if (new Set(names).size !== names.length) throw new Error(`sharp assets have clashing names: ${names.join(", ")}`);
  return {
    sharpVersion,
    assets: [...libvips, addon],
    manifest: {
      sharpVersion,
      platform: PLATFORM,
      files: [
        ...libvips.map((p) => ({ name: basename(p), dir: `${libvipsPkg}/lib` })),
        { name: basename(addon), dir: `${addonPkg}/lib` },
      ],
      addon: `${addonPkg}/lib/${basename(addon)}`,
    },
  };
}

/**
 * Patches sharp's loader (node_modules/sharp/dist/sharp.{mjs,cjs}) so that, when loadSharp() has set the
 * global, it requires the addon from that path before trying its usual candidates; and refuses imports of
 * "sharp" from anywhere but src/infra/sharp.ts.
 */
function sharpPlugin(state: { patched: string[] }): BunPlugin {
  const allowedImporter = join(ROOT, "src/infra/sharp.ts");
  return {
    name: "woolly-sharp",
    setup(build) {
      build.onResolve({ filter: /^sharp$/ }, (args) => {
        const importer = args.importer ?? "";
        if (importer !== allowedImporter && !importer.includes(`${sep}node_modules${sep}`)) {
          throw new Error(
            `${relative(ROOT, importer) || importer} imports "sharp" directly; use loadSharp() from src/infra/sharp.ts`,
          );
        }
        return undefined; // normal resolution
      });

      build.onLoad({ filter: /[\\/]node_modules[\\/]sharp[\\/]dist[\\/]sharp\.(mjs|cjs)$/ }, async (args) => {
        const source = (await Bun.file(args.path).text()).replace(/\r\n/g, "\n");
        const declaration = "let sharp;\nconst errors = [];\n";
        const firstTry = "try {\n  sharp = require(`../src/build/Release/sharp-${runtimePlatform}-${version}.node`);";
        const count = (needle: string) => source.split(needle).length - 1;
        if (count(declaration) !== 1 || count(firstTry) !== 1) {
          throw new Error(
            `sharp's loader ${args.path} no longer has the shape scripts/build.ts patches ` +
              "(`let sharp; const errors = [];` followed by the local-build require); update the plugin for this sharp version",
          );
        }
        const patched = source
          .replace(
            declaration,
            declaration +
              `const __woollyAddonPath = globalThis[${JSON.stringify(SHARP_ADDON_GLOBAL)}];\n` +
              `if (typeof __woollyAddonPath === "string") {\n` +
              `  try { sharp = require(__woollyAddonPath); } catch (err) { errors.push(err); }\n` +
              `}\n`,
          )
          .replace(firstTry, `if (!sharp) ${firstTry}`);
        state.patched.push(relative(ROOT, args.path));
        return { contents: patched, loader: "js" };
      });
    },
  };
}

function formatSize(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (!existsSync(options.entry)) {
    console.error(`build: entry ${relative(ROOT, options.entry)} does not exist`);
    return 1;
  }
  const version = await computeVersion();
  const sharp = await findSharpFiles();
  const state = { patched: [] as string[] };

  // Build next to the destination, then rename: never write into an executable that may be running.
  const outDir = dirname(options.outfile);
  mkdirSync(outDir, { recursive: true });
  const stagingDir = join(outDir, `.build-${process.pid}`);
  const staged = join(stagingDir, basename(options.outfile));
  rmSync(stagingDir, { recursive: true, force: true });
  mkdirSync(stagingDir, { recursive: true });

  const started = performance.now();
  try {
    const result = await Bun.build({
      // The web threads' entry (WEB_CONCURRENCY) must be in the binary too: Bun Workers load their module
      // from the embedded file system, at this path under ROOT (see src/cli/roles/web-threads.ts).
      entrypoints: [options.entry, WEB_THREAD_ENTRY],
      root: ROOT,
      target: "bun",
      format: "esm",
      minify: true,
      bytecode: options.bytecode,
      sourcemap: "linked",
      define: {
        WOOLLY_VERSION: JSON.stringify(version),
        WOOLLY_SHARP_MANIFEST: JSON.stringify(JSON.stringify(sharp.manifest)),
      },
      plugins: [sharpPlugin(state)],
      compile: {
        target: "bun-linux-x64",
        outfile: staged,
        assets: sharp.assets,
        bytecodeOrder: options.bytecode && options.bytecodeOrder.length > 0 ? options.bytecodeOrder : false,
        autoloadDotenv: false,
        autoloadBunfig: false,
        autoloadTsconfig: false,
        autoloadPackageJson: false,
      },
      throw: false,
    });
    if (!result.success) {
      for (const log of result.logs) console.error(log);
      console.error("build: failed");
      return 1;
    }
    for (const log of result.logs) if (log.level === "warning") console.warn(log);
    if (state.patched.length === 0) {
      console.error(
        "build: sharp's loader is not in the bundle: the entry must reach loadSharp() (src/infra/sharp.ts), " +
          "e.g. through `woolly selftest`",
      );
      return 1;
    }
    if (!existsSync(staged)) {
      console.error(`build: Bun.build reported success but ${staged} is missing`);
      return 1;
    }
    renameSync(staged, options.outfile);
  } finally {
    rmSync(stagingDir, { recursive: true, force: true });
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `build: ${relative(ROOT, options.outfile)} ${formatSize(statSync(options.outfile).size)} in ${seconds}s ` +
      `(version ${version}, bytecode ${options.bytecode ? "on" : "off"}, sharp ${sharp.sharpVersion} embedded)`,
  );
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`build: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
