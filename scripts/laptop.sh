#!/bin/sh
# Laptop mode from a fresh Debian/Ubuntu machine, in one command:
#
#   sh scripts/laptop.sh [laptop options…]      (e.g. --port 3999; --help lists them)
#
# Installs Bun with npm if it is missing (npm itself with apt-get when we are root or have
# passwordless sudo), installs the locked dependencies, then runs `bun scripts/laptop.ts`, which
# starts a private PostgreSQL and Redis and the whole Woolly instance (see scripts/laptop.ts).
set -eu

BUN_VERSION=1.4.5
cd "$(dirname "$0")/.."

say() { printf '[laptop] %s\n' "$*"; }
die() { printf '[laptop] %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

if ! command -v bun >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "Neither bun nor npm is installed: install Node.js/npm, then run: npm i -g bun@$BUN_VERSION"
    say "Installing npm with apt-get (needed to install Bun)…"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
      || die "Could not install npm (needs root or passwordless sudo): run sudo apt-get install npm, then npm i -g bun@$BUN_VERSION"
  fi
  say "Installing Bun $BUN_VERSION with npm…"
  if [ "$(id -u)" = 0 ] || [ -w "$(npm prefix -g)/lib" ]; then npm i -g "bun@$BUN_VERSION"
  else as_root npm i -g "bun@$BUN_VERSION" || die "npm i -g bun@$BUN_VERSION needs root: run it with sudo, then rerun this script"
  fi
  PATH="$(npm prefix -g)/bin:$PATH"
  export PATH
  command -v bun >/dev/null 2>&1 || die "Bun was installed but is not on PATH: add $(npm prefix -g)/bin to PATH"
fi

installed=$(bun --version 2>/dev/null || echo unknown)
[ "$installed" = "$BUN_VERSION" ] || say "Note: this project is tested with Bun $BUN_VERSION; you have $installed (npm i -g bun@$BUN_VERSION to match)."

say "Installing dependencies (bun install --frozen-lockfile)…"
bun install --frozen-lockfile

exec bun scripts/laptop.ts "$@"
