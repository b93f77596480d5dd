/** `woolly admin domains`: block (with severity and flags), list, change, unblock, and bad input. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isSuspendedHost } from "../../src/features/federation/domain-blocks";
import { runWoolly } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
beforeAll(async () => {
  context = await testContext();
});
afterAll(async () => {
  await context.close();
});

test("block, list, unblock", async () => {
  const blocked = await runWoolly(["admin", "domains", "block", "Spam.Fed-Example.test", "--severity", "suspend", "--reject-media"]);
  expect(blocked.stderr).toBe("");
  expect(blocked.code).toBe(0);
  expect(blocked.stdout).toContain("spam.fed-example.test blocked (suspend, reject media)");
  // Subdomains are covered; other domains are not.
  expect(await isSuspendedHost(context.sql, "social.spam.fed-example.test")).toBe(true);
  expect(await isSuspendedHost(context.sql, "notspam.fed-example.test")).toBe(false);

  const list = await runWoolly(["admin", "domains", "list", "--json"]);
  const rows = JSON.parse(list.stdout) as { domain: string; severity: string; reject_media: boolean }[];
  expect(rows.find((r) => r.domain === "spam.fed-example.test")).toMatchObject({ severity: "suspend", reject_media: true, reject_reports: false });

  // Blocking again changes the block.
  expect((await runWoolly(["admin", "domains", "block", "spam.fed-example.test", "--reject-reports"])).stdout).toContain("(silence, reject reports)");
  expect(await isSuspendedHost(context.sql, "spam.fed-example.test")).toBe(false);

  expect((await runWoolly(["admin", "domains", "unblock", "spam.fed-example.test"])).code).toBe(0);
  expect((await runWoolly(["admin", "domains", "list"])).stdout).not.toContain("spam.fed-example.test");
});

test("bad input exits 2", async () => {
  expect((await runWoolly(["admin", "domains", "block", "not a domain"])).code).toBe(2);
  expect((await runWoolly(["admin", "domains", "block", "ok.fed-example.test", "--severity", "banish"])).code).toBe(2);
  expect((await runWoolly(["admin", "domains", "unblock", "never-blocked.fed-example.test"])).code).toBe(2);
});
