/**
 * The /admin web UI in a real headless Chromium (sign in through the sign-in page, dashboard, CSV import with
 * preview then apply, retry a failed job, resolve a report), and the same guards over plain HTTP: non-staff
 * 403, moderators only on reports, no CSRF token 403, not signed in → sign in. The plain-HTTP tests also
 * run the import/resolve/retry flows so they are covered even where Chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import * as v from "valibot";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { createReport } from "../../src/features/reports/service";
import { defineJob, JobRegistry } from "../../src/infra/queues/registry";
import { startWorkers } from "../../src/infra/queues/worker";
import { Browser as HttpBrowser, hiddenFields } from "../helpers/browser";
import { chromiumPath, launchChromium } from "../helpers/chromium";
import { waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser, TEST_PASSWORD } from "../helpers/users";

const ARTIFACTS = "test-artifacts/admin-ui";
// Its own queue namespace: the failed-job counts on the queues page must be this file's alone.
const OWN_QUEUES = { REDIS_NAMESPACE: `${process.env.REDIS_NAMESPACE}_admin_ui` };

let context: TestContext;
let server: ReturnType<ReturnType<typeof buildWebApp>["listen"]>;
let base: string;
let admin: LocalAccountRow;
let reporter: LocalAccountRow;
let target: LocalAccountRow;

beforeAll(async () => {
  context = await testContext(OWN_QUEUES);
  server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
  base = `http://127.0.0.1:${server.server!.port}`;
  admin = (await makeTestUser(context, "au_admin", { role: "Admin" })).account;
  await makeTestUser(context, "au_mod", { role: "Moderator" });
  await makeTestUser(context, "au_user");
  reporter = (await makeTestUser(context, "au_reporter")).account;
  target = (await makeTestUser(context, "au_target")).account;
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await server.stop(true);
  await context.close();
});

async function signedIn(username: string): Promise<HttpBrowser> {
  const browser = new HttpBrowser(base, { email: `${username}@example.com`, password: TEST_PASSWORD });
  const form = await (await browser.request("/auth/sign_in")).text();
  const response = await browser.post("/auth/sign_in", { ...hiddenFields(form), email: `${username}@example.com`, password: TEST_PASSWORD });
  expect(response.status).toBe(303);
  return browser;
}

/** A job in the `pull` queue that has failed for good, and a way to tell where it is now. */
async function failedJob(reason: string) {
  const job = defineJob({ name: "test.admin-ui", queue: "pull", schema: v.object({ n: v.number() }), attempts: 1, backoffMs: 1, handler: async () => { throw new Error(reason); } });
  const workers = startWorkers({ queues: ["pull"], concurrency: 1, registry: new JobRegistry([job]), context, connection: context.bullConnection, prefix: context.bullPrefix });
  try {
    const id = await context.queues.enqueue(job, { n: 1 });
    await waitFor(async () => (await (await context.queues.queue("pull").getJob(id))?.getState()) === "failed");
    return { id, state: async () => (await context.queues.queue("pull").getJob(id))?.getState() };
  } finally {
    await workers.close(5000);
  }
}

async function openReport(comment: string) {
  return createReport(context, reporter, { accountId: target.id, statusIds: [], comment, forward: false, ruleIds: [] });
}

async function blocked(domain: string) {
  const [row] = await context.sql<{ severity: string }[]>`select severity from domain_blocks where domain = ${domain}`;
  return row?.severity;
}

describe("admin UI over plain HTTP", () => {
  test("not signed in → sign in (and back); a plain user gets 403; a moderator sees reports only", async () => {
    const anonymous = await fetch(`${base}/admin/queues`, { redirect: "manual" });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/auth/sign_in?return_to=%2Fadmin%2Fqueues");

    const user = await signedIn("au_user");
    for (const path of ["/admin", "/admin/queues", "/admin/domain_blocks", "/admin/reports", "/admin/accounts", "/admin/settings", "/admin/announcements", "/admin/domain_blocks/export"]) {
      expect((await user.request(path)).status).toBe(403);
    }
    const page = await (await user.request("/admin/reports")).text();
    expect(page).toContain("This page is for the staff of this server.");

    const moderator = await signedIn("au_mod");
    expect((await moderator.request("/admin/reports")).status).toBe(200);
    expect((await moderator.request("/admin")).status).toBe(403);
    expect((await moderator.request("/admin/domain_blocks")).status).toBe(403);
  });

  test("a POST without, or with a wrong, CSRF token is 403 and changes nothing", async () => {
    const browser = await signedIn("au_admin");
    const fields = { domain: "au-nocsrf.example", severity: "suspend", reject_media: "", reject_reports: "", private_comment: "", public_comment: "" };
    expect((await browser.post("/admin/domain_blocks", fields)).status).toBe(403);
    expect((await browser.post("/admin/domain_blocks", { ...fields, authenticity_token: "x".repeat(43) })).status).toBe(403);
    // A token from another session (a user's own page) is not this session's either.
    const other = await signedIn("au_user");
    const foreign = hiddenFields(await (await other.request("/")).text()).authenticity_token!;
    expect((await browser.post("/admin/domain_blocks", { ...fields, authenticity_token: foreign })).status).toBe(403);
    expect(await blocked("au-nocsrf.example")).toBeUndefined();
    const report = await openReport("csrf probe");
    expect((await browser.post(`/admin/reports/${report.id}/resolve`, {})).status).toBe(403);
    expect((await context.sql`select action_taken_at from reports where id = ${report.id}`)[0]!.action_taken_at).toBeNull();
  });

  test("add, import (preview writes nothing; a bad file is 422), export and remove domain blocks", async () => {
    const browser = await signedIn("au_admin");
    const token = async () => hiddenFields(await (await browser.request("/admin/domain_blocks")).text()).authenticity_token!;
    const add = await browser.post("/admin/domain_blocks", { authenticity_token: await token(), domain: "AU-Add.Example.", severity: "silence", reject_media: "true", reject_reports: "", private_comment: "spam", public_comment: "" });
    expect(add.status).toBe(303);
    expect(await blocked("au-add.example")).toBe("silence");

    const bad = await browser.post("/admin/domain_blocks", { authenticity_token: await token(), domain: "not a domain", severity: "silence", reject_media: "", reject_reports: "", private_comment: "", public_comment: "" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("is not a domain name");
    const badSeverity = await browser.post("/admin/domain_blocks", { authenticity_token: await token(), domain: "au-x.example", severity: "nuke", reject_media: "", reject_reports: "", private_comment: "", public_comment: "" });
    expect(badSeverity.status).toBe(422);

    const csv = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\nau-http1.example,suspend,false,false,\"bad, very\",false\nau-add.example,suspend,true,false,,false\n";
    const preview = await browser.post("/admin/domain_blocks/import", { authenticity_token: await token(), csv });
    expect(preview.status).toBe(200);
    const previewPage = await preview.text();
    expect(previewPage).toContain("1 to add, 1 to change, 0 unchanged");
    expect(previewPage).toContain("silence → suspend");
    expect(await blocked("au-http1.example")).toBeUndefined();
    const broken = await browser.post("/admin/domain_blocks/import", { authenticity_token: await token(), csv: "#domain,#severity\nau-b.example,obliterate\n" });
    expect(broken.status).toBe(422);
    expect(await broken.text()).toContain("line 2");

    const applied = await browser.post("/admin/domain_blocks/import/apply", hiddenFields(previewPage));
    expect(applied.status).toBe(303);
    expect(await blocked("au-http1.example")).toBe("suspend");
    expect(await blocked("au-add.example")).toBe("suspend");

    const exported = await browser.request("/admin/domain_blocks/export");
    expect(exported.headers.get("content-type")).toContain("text/csv");
    expect(await exported.text()).toContain('au-http1.example,suspend,false,false,"bad, very",false');

    expect((await browser.post("/admin/domain_blocks/remove", { authenticity_token: await token(), domain: "au-http1.example" })).status).toBe(303);
    expect(await blocked("au-http1.example")).toBeUndefined();
  });

  test("retry and discard failed jobs; resolve a report; bad ids are 404 pages", async () => {
    const browser = await signedIn("au_admin");
    const job = await failedJob("http says no");
    const queuesPage = await (await browser.request("/admin/queues")).text();
    expect(queuesPage).toMatch(/<th scope="row">pull<\/th><td>0<\/td><td>0<\/td><td>0<\/td><td>1<\/td>/);
    const token = hiddenFields(queuesPage).authenticity_token!;
    const retried = await browser.post("/admin/queues/pull/retry", { authenticity_token: token });
    expect(retried.status).toBe(303);
    expect(retried.headers.get("location")).toBe("/admin/queues?queue=pull&did=retried&count=1");
    expect(await job.state()).toBe("waiting");
    expect(await (await browser.request(retried.headers.get("location")!)).text()).toContain("pull: 1 failed job(s) retried");
    await context.queues.queue("pull").obliterate({ force: true });

    const discard = await failedJob("discard me");
    expect((await browser.post("/admin/queues/pull/discard", { authenticity_token: token })).status).toBe(303);
    expect(await discard.state()).toBeUndefined();
    expect((await browser.post("/admin/queues/nope/retry", { authenticity_token: token })).status).toBe(404);

    const report = await openReport("http report");
    const reportsPage = await (await browser.request("/admin/reports")).text();
    expect(reportsPage).toContain("@au_target");
    expect(reportsPage).toContain("http report");
    expect((await browser.post(`/admin/reports/${report.id}/resolve`, { authenticity_token: token })).status).toBe(303);
    const [row] = await context.sql<{ action_taken_at: Date | null; action_taken_by_account_id: string | null }[]>`select action_taken_at, action_taken_by_account_id from reports where id = ${report.id}`;
    expect(row!.action_taken_at).not.toBeNull();
    expect(row!.action_taken_by_account_id).toBe(admin.id);
    expect((await browser.post("/admin/reports/999999999/resolve", { authenticity_token: token })).status).toBe(404);
    expect((await browser.post("/admin/reports/abc/resolve", { authenticity_token: token })).status).toBe(404);
  });
});

describe("admin UI accounts", () => {
  test("a moderator searches, suspends, limits and lifts; may not act on an admin; bad input is 4xx", async () => {
    const moderator = await signedIn("au_mod");
    const search = await moderator.request("/admin/accounts?q=au_targ&origin=local");
    expect(search.status).toBe(200);
    const page = await search.text();
    expect(page).toContain("@au_target");
    expect(page).not.toContain("@au_reporter");
    const token = hiddenFields(page).authenticity_token!;
    const flags = async () => (await context.sql<{ suspended_at: Date | null; silenced_at: Date | null }[]>`select suspended_at, silenced_at from accounts where id = ${target.id}`)[0]!;

    expect((await moderator.post(`/admin/accounts/${target.id}/suspend`, { authenticity_token: token })).status).toBe(303);
    expect((await flags()).suspended_at).not.toBeNull();
    expect(await (await moderator.request("/admin/accounts?q=au_target")).text()).toContain("suspended");
    expect((await moderator.post(`/admin/accounts/${target.id}/silence`, { authenticity_token: token })).status).toBe(303);
    expect((await flags()).silenced_at).not.toBeNull();
    expect((await moderator.post(`/admin/accounts/${target.id}/unsuspend`, { authenticity_token: token })).status).toBe(303);
    expect((await moderator.post(`/admin/accounts/${target.id}/unsilence`, { authenticity_token: token })).status).toBe(303);
    expect(await flags()).toEqual({ suspended_at: null, silenced_at: null });

    expect((await moderator.post(`/admin/accounts/${admin.id}/suspend`, { authenticity_token: token })).status).toBe(403);
    expect((await context.sql`select suspended_at from accounts where id = ${admin.id}`)[0]!.suspended_at).toBeNull();
    expect((await moderator.post(`/admin/accounts/${target.id}/delete`, { authenticity_token: token })).status).toBe(404);
    expect((await moderator.post(`/admin/accounts/999999999/suspend`, { authenticity_token: token })).status).toBe(404);
    expect((await moderator.post(`/admin/accounts/${target.id}/suspend`, {})).status).toBe(403);
    expect((await moderator.request(`/admin/accounts?q=${"x".repeat(101)}`)).status).toBe(422);
    expect((await moderator.request("/admin/accounts?origin=mars")).status).toBe(422);
    expect((await (await signedIn("au_user")).request("/admin/accounts")).status).toBe(403);
  });
});

describe("admin UI settings", () => {
  test("an admin changes name, contact, registrations, rules and retention; an invalid value writes nothing", async () => {
    const KEYS = ["site_title", "site_short_description", "site_contact_email", "site_contact_username", "registrations_mode", "rules", "media_cache_retention_period", "content_cache_retention_period", "backups_retention_period"];
    // Other test files in this run share the settings table: what was there is put back at the end.
    const before = await context.sql<{ key: string; value: unknown }[]>`select key, value from settings where key = any(${KEYS})`;
    const browser = await signedIn("au_admin");
    const page = await (await browser.request("/admin/settings")).text();
    const token = hiddenFields(page).authenticity_token!;
    const fields = { authenticity_token: token, site_title: "AU Woolly", site_short_description: "A <b>test</b> server", site_contact_email: "staff@au.example", site_contact_username: "au_admin", registrations_mode: "approved", rules: "Be kind\n\nNo spam \n", media_cache_retention_period: "14", content_cache_retention_period: "", backups_retention_period: "30" };
    const saved = await browser.post("/admin/settings", fields);
    expect(saved.status).toBe(303);
    const read = async (key: string) => (await context.sql<{ value: unknown }[]>`select value from settings where key = ${key}`)[0]?.value;
    expect(await read("site_title")).toBe("AU Woolly");
    expect(await read("registrations_mode")).toBe("approved");
    expect(await read("rules")).toEqual([{ text: "Be kind", hint: "" }, { text: "No spam", hint: "" }]);
    expect(await read("media_cache_retention_period")).toBe(14);
    expect(await read("content_cache_retention_period")).toBeNull();
    expect(await read("backups_retention_period")).toBe(30);
    const after = await (await browser.request("/admin/settings?saved=1")).text();
    expect(after).toContain("Settings saved.");
    expect(after).toContain('value="AU Woolly"');
    expect(after).toContain("A &lt;b&gt;test&lt;/b&gt; server");

    const bad = await browser.post("/admin/settings", { ...fields, site_title: "Changed", site_contact_email: "not an email" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Contact email");
    expect(await read("site_title")).toBe("AU Woolly");
    expect((await browser.post("/admin/settings", { ...fields, registrations_mode: "everyone" })).status).toBe(422);
    expect((await browser.post("/admin/settings", { ...fields, rules: "x".repeat(301) })).status).toBe(422);
    expect(await read("registrations_mode")).toBe("approved");
    for (const bad of ["0", "-3", "2.5", "soon", "40000"]) {
      const answer = await browser.post("/admin/settings", { ...fields, site_title: "Changed", backups_retention_period: bad });
      expect(answer.status).toBe(422);
      expect(await answer.text()).toContain("User archive retention");
    }
    expect(await read("site_title")).toBe("AU Woolly");
    expect(await read("backups_retention_period")).toBe(30);
    expect((await (await signedIn("au_mod")).request("/admin/settings")).status).toBe(403);
    await context.sql.begin(async (tx) => {
      await tx`delete from settings where key = any(${KEYS})`;
      for (const row of before) await tx`insert into settings (key, value, updated_at) values (${row.key}, ${tx.json(row.value as never)}, now())`;
    });
  });
});

describe("admin UI announcements", () => {
  test("an admin publishes and deletes an announcement; blank text and a past end are 422", async () => {
    const browser = await signedIn("au_admin");
    const token = hiddenFields(await (await browser.request("/admin/announcements")).text()).authenticity_token!;
    const text = `au announcement ${Date.now()}`;
    expect((await browser.post("/admin/announcements", { authenticity_token: token, text, ends_at: "2099-01-01T10:30" })).status).toBe(303);
    const [row] = await context.sql<{ id: string; ends_at: Date }[]>`select id, ends_at from announcements where text = ${text}`;
    expect(row!.ends_at.toISOString()).toBe("2099-01-01T10:30:00.000Z");
    expect(await (await browser.request("/admin/announcements")).text()).toContain(text);
    expect((await browser.post("/admin/announcements", { authenticity_token: token, text: "   ", ends_at: "" })).status).toBe(422);
    expect((await browser.post("/admin/announcements", { authenticity_token: token, text: "au past", ends_at: "2001-01-01T00:00" })).status).toBe(422);
    expect((await browser.post("/admin/announcements", { authenticity_token: token, text: "au bad", ends_at: "tomorrow" })).status).toBe(422);
    expect((await context.sql`select 1 from announcements where text in ('au past', 'au bad')`).length).toBe(0);
    expect((await browser.post(`/admin/announcements/${row!.id}/delete`, { authenticity_token: token })).status).toBe(303);
    expect((await context.sql`select 1 from announcements where id = ${row!.id}`).length).toBe(0);
    expect((await browser.post(`/admin/announcements/${row!.id}/delete`, { authenticity_token: token })).status).toBe(404);
  });
});

const executable = chromiumPath();
if (!executable) {
  console.warn("\n*** admin-ui: NO CHROMIUM FOUND (apt-get install -y chromium, or set CHROMIUM_PATH): the real-browser tests are SKIPPED ***\n");
}

describe.skipIf(!executable)("admin UI in headless Chromium", () => {
  test("admin signs in, sees the dashboard, imports a CSV, retries a failed job, resolves a report (also on a phone)", async () => {
    const job = await failedJob("browser says no");
    const report = await openReport("browser report");
    const chromium = await launchChromium(executable!);
    try {
      const browser = await chromium.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const page = await browser.newPage();
      await page.goto(`${base}/admin`);
      expect(new URL(page.url()).pathname).toBe("/auth/sign_in");
      await page.fill("#email", "au_admin@example.com");
      await page.fill("#password", TEST_PASSWORD);
      await page.click("button[type=submit]:has-text('Sign in')");
      await page.waitForURL(`${base}/admin`);
      expect(await page.textContent("h1")).toBe("Dashboard");
      expect(await page.textContent("dl.stats")).toContain("Remote accounts");
      // Nothing wider than the phone's screen except inside the scrolling tables.
      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${ARTIFACTS}/dashboard-phone.png`, fullPage: true });

      await page.click("nav >> text=Domain blocks");
      await page.fill("#csv", "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\nau-chrome1.example,suspend,false,false,,false\nau-chrome2.example,silence,true,false,noisy,false\n");
      await page.click("text=Preview import");
      expect(await page.textContent("h1")).toBe("Import preview");
      expect(await page.textContent("main")).toContain("2 to add, 0 to change");
      expect(await blocked("au-chrome1.example")).toBeUndefined();
      await page.screenshot({ path: `${ARTIFACTS}/import-preview.png`, fullPage: true });
      await page.click("text=Apply import");
      await page.waitForURL(`${base}/admin/domain_blocks`);
      expect(await page.textContent("table")).toContain("au-chrome2.example");
      expect(await blocked("au-chrome1.example")).toBe("suspend");
      expect(await blocked("au-chrome2.example")).toBe("silence");

      await page.setViewportSize({ width: 1280, height: 900 });
      await page.click("nav >> text=Queues");
      await page.click("tr:has(th:text-is('pull')) >> text=Retry failed");
      expect(await page.textContent(".notice")).toContain("pull: 1 failed job(s) retried");
      expect(await job.state()).toBe("waiting");
      await page.screenshot({ path: `${ARTIFACTS}/queues.png`, fullPage: true });

      await page.click("nav >> text=Reports");
      expect(await page.textContent("table")).toContain("browser report");
      await page.click(`tr:has-text('#${report.id}') >> text=Resolve`);
      await page.waitForURL(`${base}/admin/reports`);
      expect((await context.sql`select action_taken_at from reports where id = ${report.id}`)[0]!.action_taken_at).not.toBeNull();
      await page.screenshot({ path: `${ARTIFACTS}/reports.png`, fullPage: true });
      await browser.close();
    } finally {
      await chromium.close();
      await context.queues.queue("pull").obliterate({ force: true });
    }
  }, 60_000);
});
