/**
 * A real headless Chromium for UI tests, driven by playwright-core. The browser is the system's (Debian
 * package `chromium`, or CHROMIUM_PATH); playwright-core ships no browser of its own. `chromiumPath()` is
 * undefined when none is installed, so a test can skip loudly instead of failing on a missing binary.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable"];

export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  // --no-sandbox: CI and this machine run tests as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
}
