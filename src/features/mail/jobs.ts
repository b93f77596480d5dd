/**
 * mail.send, on the `mailers` queue: render one mail and hand it to the transport (SMTP relay or outbox).
 *
 * Retries: 12 tries, 30 s doubling (30 s, 1 min, 2 min … 8.5 h; about 17 h from the first try to the last), so
 * a relay that is down overnight costs a delay, not the mail. A mail that exhausts them stays in the failed
 * set (kept 14 days) with its error; `woolly admin queues retry mailers` sends it again.
 *
 * At least once, not exactly once: SMTP has no idempotency. If the relay accepts a message and the worker dies
 * before the job is acknowledged, the job runs again. Two guards make that rare and visible:
 * - every mail carries a Message-ID made from the payload's marker, the same on every try, so a duplicate
 *   is identifiable (and many relays and clients drop a repeated Message-ID);
 * - after a send the marker is recorded in Redis, and a later run of the same job skips the send.
 */
import * as v from "valibot";
import { createMailTransport } from "../../infra/mail";
import { log } from "../../infra/log";
import { defineJob, type JobContext } from "../../infra/queues/registry";
import type { MailTemplate } from "./service";
import { renderMail } from "./templates";

export const MAIL_TEMPLATES = ["confirmation", "password_reset"] as const satisfies readonly MailTemplate[];

export const sendMailJob = defineJob({
  name: "mail.send",
  queue: "mailers",
  schema: v.object({
    /** Random, chosen at enqueue time: the Message-ID and the "already sent" key. */
    marker: v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{8,64}$/)),
    template: v.picklist(MAIL_TEMPLATES),
    // One mailbox, no whitespace (so no header line breaks); as lenient as the sign-up rule otherwise.
    to: v.pipe(v.string(), v.maxLength(320), v.regex(/^[^\s@]+@[^\s@]+$/)),
    locale: v.optional(v.pipe(v.string(), v.maxLength(64))),
    username: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    link: v.pipe(v.string(), v.maxLength(4096), v.regex(/^https?:\/\/\S+$/)),
  }),
  attempts: 12,
  backoffMs: 30_000,
  // The payload holds a confirmation or reset link: do not keep it in Redis once the mail has gone.
  sensitive: true,
  async handler(payload, context) {
    const sentKey = sentMarkerKey(context, payload.marker);
    if (await context.redis.exists(sentKey)) {
      log.info("mail already sent, not sending again", { job: context.jobId, marker: payload.marker });
      return;
    }
    // Rendered here, at send time, not at enqueue time: the instance title and the wording are current when the
    // mail leaves (a retry hours later after a rename says the new name), and the job payload stays small data.
    const rendered = await renderMail(context, payload);
    const transport = createMailTransport(context.config);
    const messageId = `<${payload.marker}@${hostOnly(context.config.localDomain)}>`;
    await transport.send({ from: context.config.smtp.fromAddress, to: payload.to, messageId, ...rendered });
    // The mail is out: a failure to record that must not fail the job, or the retry would send it again.
    await context.redis.set(sentKey, new Date().toISOString(), "EX", 7 * 24 * 3600).catch((error: Error) => {
      log.warn("mail sent but not marked as sent", { job: context.jobId, error: error.message });
    });
    // The recipient's domain only: addresses are personal data, and the body holds a secret link.
    log.info("mail sent", {
      job: context.jobId,
      attempt: context.attempt,
      template: payload.template,
      via: transport.kind,
      messageId,
      toDomain: payload.to.split("@").pop(),
    });
  },
});

function sentMarkerKey(context: JobContext, marker: string): string {
  const namespace = context.config.redis.namespace;
  return `${namespace ? `${namespace}:` : ""}mail:sent:${marker}`;
}

function hostOnly(domain: string): string {
  return domain.replace(/:\d+$/, "");
}
