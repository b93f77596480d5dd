/**
 * Build identity. scripts/build.ts injects WOOLLY_VERSION with Bun.build's `define`
 * ("<package.json version>+<short git sha>[.dirty]", e.g. "0.1.0+5d443df"); run from source
 * (`bun src/main.ts`) the identifier is undefined and we report "<package.json version>-dev".
 */
import pkg from "../../package.json" with { type: "json" };

// Replaced by a string literal at build time (scripts/build.ts); undeclared when run from source.
declare const WOOLLY_VERSION: string | undefined;

export function buildVersion(): string {
  if (typeof WOOLLY_VERSION === "string" && WOOLLY_VERSION !== "") return WOOLLY_VERSION;
  return `${pkg.version}-dev`;
}

/** True when running from the executable produced by `bun build --compile`. */
export function isCompiled(): boolean {
  return Bun.isStandaloneExecutable === true;
}
