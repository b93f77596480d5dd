import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { CONFIG_VARIABLES } from "../../src/infra/config";

const root = resolve(import.meta.dir, "../..");

test("every configuration variable is documented in docs/configuration.md and .env.example, and nothing else", async () => {
  const docs = await Bun.file(resolve(root, "docs/configuration.md")).text();
  const example = await Bun.file(resolve(root, ".env.example")).text();
  const documented = new Set([...docs.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  const inExample = new Set([...example.matchAll(/^#?([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  expect([...inExample].sort()).toEqual([...CONFIG_VARIABLES].sort());
});

test("config.ts reads no variable that CONFIG_VARIABLES does not list", async () => {
  const source = await Bun.file(resolve(root, "src/infra/config.ts")).text();
  const read = new Set([...source.matchAll(/\(env, "([A-Z0-9_]+)"/g)].map((m) => m[1]));
  for (const name of read) expect(CONFIG_VARIABLES as readonly string[]).toContain(name!);
});
