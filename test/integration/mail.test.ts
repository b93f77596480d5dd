/**
 * Email: enqueueMail → the app's worker on `mailers` → a real SMTP server (smtp-server on loopback), retries
 * while the relay refuses, the laptop-mode outbox, and HTML escaping in the templates.
 * Each scenario gets its own Redis namespace, so a worker never picks up another scenario's jobs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendMailJob } from "../../src/features/mail/jobs";
import { enqueueMail } from "../../src/features/mail/service";
import { escapeHtml, renderTemplate } from "../../src/features/mail/templates";
import { resetSetting, setSetting } from "../../src/features/settings/service";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";
import { decodeHeader, parseMime, partOf, Relay } from "../helpers/smtp";

// ---- scenarios ----

const TITLE = `Fluffy & "Friends" <Place>`;
const namespace = (name: string) => `${process.env.REDIS_NAMESPACE}:mail-${name}`;

let relay: Relay;
let smtpContext: TestContext;
let workers: RunningWorkers | undefined;

beforeAll(async () => {
  relay = new Relay();
  const port = await relay.start();
  smtpContext = await testContext({
    REDIS_NAMESPACE: namespace("smtp"),
    SMTP_SERVER: "127.0.0.1",
    SMTP_PORT: String(port),
    SMTP_LOGIN: "mailer",
    SMTP_PASSWORD: "s3cret-relay-pass",
    SMTP_AUTH_METHOD: "login",
    SMTP_ENABLE_STARTTLS: "never",
    SMTP_OPENSSL_VERIFY_MODE: "none",
    SMTP_FROM_ADDRESS: "Woolly <notifications@woolly.test>",
  });
  await setSetting(smtpContext.sql, "site_title", TITLE);
  workers = startWorkers({
    queues: ["mailers"],
    concurrency: 2,
    registry: jobRegistry,
    context: smtpContext,
    connection: smtpContext.bullConnection,
    prefix: smtpContext.bullPrefix,
  });
});

afterAll(async () => {
  await workers?.close(5000);
  await resetSetting(smtpContext.sql, "site_title");
  await smtpContext.close();
  await relay.stop();
});

let sentAlice: { marker: string; link: string } | undefined;

/** The id of the mail.send job enqueueMail just added (it returns nothing, by contract). */
async function lastMailJob(context: TestContext, to: string) {
  const jobs = await context.queues.queue("mailers").getJobs(["wait", "active", "delayed", "completed", "failed", "prioritized"]);
  const job = jobs.find((j) => j.name === "mail.send" && j.data.to === to);
  if (!job) throw new Error(`no mail.send job for ${to}`);
  return job;
}

describe("mail over SMTP", () => {
  test("a confirmation mail reaches the relay with the title, the exact link and the username in both parts", async () => {
    const link = "http://woolly.test/auth/confirmation?confirmation_token=" + "abcdef0123456789".repeat(4) + "&x=1";
    await enqueueMail(smtpContext, { template: "confirmation", to: "alice@example.org", username: "alice_42", link, locale: "en" });

    const mail = await waitFor(async () => relay.received.find((m) => m.to.includes("alice@example.org")));
    expect(mail.user).toBe("mailer"); // authenticated with SMTP_LOGIN / SMTP_AUTH_METHOD=login
    expect(mail.from).toBe("notifications@woolly.test");
    const message = parseMime(mail.raw);
    expect(decodeHeader(message.headers.subject!)).toBe(`Confirm your email for ${TITLE}`);
    const text = partOf(message, "text/plain").body;
    const html = partOf(message, "text/html").body;
    expect(text).toContain(`\n${link}\n`);
    expect(text).toContain("@alice_42");
    expect(text).toContain("woolly.test");
    expect(html).toContain(`href="${escapeHtml(link)}"`);
    expect(html).toContain("@alice_42");
    expect(html).toContain(escapeHtml(TITLE));
    expect(html).not.toContain("<Place>");

    // The job id is derived from the Message-ID's marker; once sent, the job record (which holds the link) is gone.
    const marker = /^<([^@]+)@woolly\.test>$/.exec(message.headers["message-id"]!)![1]!;
    await waitFor(async () => (await smtpContext.queues.queue("mailers").getJob(`mail-${marker}`)) === undefined);
    expect(sendMailJob.attempts).toBe(12);
    expect(sendMailJob.backoffMs).toBe(30_000);
    sentAlice = { marker, link };
  });

  test("running a job again after it sent (a worker died before the ack) does not send again", async () => {
    const before = relay.received.length;
    const payload = { marker: sentAlice!.marker, template: "confirmation" as const, to: "alice@example.org", username: "alice_42", link: sentAlice!.link };
    await sendMailJob.handler(payload, { ...smtpContext, jobId: `mail-${sentAlice!.marker}`, attempt: 2 });
    expect(relay.received.length).toBe(before);
  });

  test("a relay that refuses: the job waits for its retry (not failed, not lost), then arrives exactly once", async () => {
    relay.refuseNext = 1;
    const link = "http://woolly.test/auth/password/edit?reset_password_token=tok123";
    await enqueueMail(smtpContext, { template: "password_reset", to: "bob@example.org", username: "bob", link });

    const job = await waitFor(async () => {
      const found = await lastMailJob(smtpContext, "bob@example.org");
      return (await found.getState()) === "delayed" ? found : undefined;
    });
    const fresh = (await smtpContext.queues.queue("mailers").getJob(job.id!))!;
    expect(fresh.attemptsMade).toBe(1);
    expect(fresh.failedReason).toContain("451");
    expect(relay.refused).toHaveLength(1);
    expect(relay.received.filter((m) => m.to.includes("bob@example.org"))).toHaveLength(0);
    // The first backoff is 30 s; do not wait for it, bring the retry forward the way an operator could.
    await fresh.promote();
    await waitFor(async () => relay.received.some((m) => m.to.includes("bob@example.org")));
    await waitFor(async () => (await smtpContext.queues.queue("mailers").getJob(fresh.id!)) === undefined); // completed and dropped
    const arrived = relay.received.filter((m) => m.to.includes("bob@example.org"));
    expect(arrived).toHaveLength(1);
    const message = parseMime(arrived[0]!.raw);
    expect(decodeHeader(message.headers.subject!)).toBe(`Reset your password for ${TITLE}`);
    expect(partOf(message, "text/plain").body).toContain(`\n${link}\n`);
    // Same Message-ID on the refused try and the delivered one: a duplicate would be recognisable.
    expect(message.headers["message-id"]).toBe(`<${fresh.data.marker}@woolly.test>`);
    expect(parseMime(relay.refused[0]!).headers["message-id"]).toBe(message.headers["message-id"]!);
  });
});

describe("mail without SMTP (laptop mode)", () => {
  test("the mail lands in the outbox as a parseable .eml with the link", async () => {
    const dir = await mkdtemp(join(tmpdir(), "woolly-outbox-"));
    const context = await testContext({ REDIS_NAMESPACE: namespace("outbox"), SMTP_SERVER: "", MAIL_OUTBOX_DIR: join(dir, "mail") });
    const outboxWorkers = startWorkers({
      queues: ["mailers"],
      concurrency: 1,
      registry: jobRegistry,
      context,
      connection: context.bullConnection,
      prefix: context.bullPrefix,
    });
    try {
      const link = "http://woolly.test/auth/confirmation?confirmation_token=laptop-" + "z".repeat(90);
      await enqueueMail(context, { template: "confirmation", to: "carol@example.org", username: "carol", link });
      const files = await waitFor(async () => {
        const names = await readdir(join(dir, "mail")).catch(() => []);
        return names.length > 0 ? names : undefined;
      });
      expect(files).toHaveLength(1); // no temp file left behind
      expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}T[\d-]+\.\d{3}Z-[0-9a-f-]+_woolly\.test\.eml$/);
      const raw = await readFile(join(dir, "mail", files[0]!), "utf8");
      const message = parseMime(raw);
      expect(message.headers.to).toBe("carol@example.org");
      expect(decodeHeader(message.headers.subject!)).toBe(`Confirm your email for ${TITLE}`);
      expect(partOf(message, "text/plain").body).toContain(`\n${link}\n`);
      expect(partOf(message, "text/html").body).toContain(`href="${link}"`);
    } finally {
      await outboxWorkers.close(5000);
      await context.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("templates", () => {
  test("every interpolated value is HTML-escaped; the text part keeps them verbatim", () => {
    const values = { title: `<b>Evil</b> & "co"`, domain: "woolly.test", username: "<script>alert(1)</script>", link: `https://woolly.test/x?a=1&b="2"` };
    for (const template of ["confirmation", "password_reset"] as const) {
      const { subject, text, html } = renderTemplate(template, values);
      expect(html).not.toContain("<script>");
      expect(html).not.toContain("<b>Evil");
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(html).toContain("&lt;b&gt;Evil&lt;/b&gt; &amp; &quot;co&quot;");
      expect(html).toContain(`href="https://woolly.test/x?a=1&amp;b=&quot;2&quot;"`);
      expect(text).toContain(`\n${values.link}\n`);
      expect(text).toContain("@<script>alert(1)</script>");
      expect(subject).toContain(values.title);
    }
  });

  test("a title with line breaks cannot add header lines", () => {
    const { subject } = renderTemplate("confirmation", { title: "A\r\nBcc: x@evil.test", domain: "d", username: "u", link: "https://d/l" });
    expect(subject).toBe("Confirm your email for A Bcc: x@evil.test");
  });
});
