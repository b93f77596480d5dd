/**
 * Sending mail. Two transports behind one `send()`:
 * - SMTP_SERVER set: nodemailer's SMTP client against the operator's relay, with Mastodon's SMTP_* meanings.
 * - not set (laptop mode): every message becomes an RFC 822 `.eml` file in MAIL_OUTBOX_DIR, so sign-up and
 *   password reset work with no relay and the links can be opened from the file.
 * A send either resolves (the relay accepted the message, or the file is in place) or throws; retrying is the
 * queue's job, not this module's. Never log bodies or credentials here: links in mails are secrets.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import nodemailer from "nodemailer";
import type { Config } from "./config";
import { log } from "./log";

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Full Message-ID header value including the angle brackets, e.g. `<abc@example.com>`. */
  messageId: string;
}

export interface MailTransport {
  /** "smtp" or "outbox", for logs and tests. */
  readonly kind: "smtp" | "outbox";
  send(message: OutgoingMail): Promise<void>;
}

const SMTP_AUTH_METHODS = { plain: "PLAIN", login: "LOGIN", cram_md5: "CRAM-MD5" } as const;

// One transport per configuration object: in production that is once per process; tests that build several
// contexts (SMTP and outbox) in one process each get their own.
const transports = new WeakMap<Config, MailTransport>();

export function createMailTransport(config: Config): MailTransport {
  let transport = transports.get(config);
  if (!transport) {
    transport = config.smtp.server ? smtpTransport(config) : outboxTransport(config.mailOutboxDir);
    transports.set(config, transport);
  }
  return transport;
}

function smtpTransport(config: Config): MailTransport {
  const smtp = config.smtp;
  const useAuth = smtp.authMethod !== "none" && smtp.login !== undefined && smtp.password !== undefined;
  // Not pooled: mail volume is low (sign-ups, resets), and a fresh connection per message means a relay that
  // dropped an idle connection can never make a send fail. Short timeouts: a relay that hangs must fail the
  // job so the queue retries it later, rather than holding a worker slot for minutes.
  const mailer = nodemailer.createTransport({
    host: smtp.server,
    port: smtp.port,
    secure: smtp.tls,
    requireTLS: smtp.enableStarttls === "always",
    ignoreTLS: smtp.enableStarttls === "never",
    // SMTP_OPENSSL_VERIFY_MODE=none: for relays with self-signed certificates on a private network.
    tls: { rejectUnauthorized: smtp.opensslVerifyMode !== "none" },
    name: smtp.domain,
    auth: useAuth ? { user: smtp.login, pass: smtp.password } : undefined,
    // Mastodon's SMTP_AUTH_METHOD names mapped to SASL mechanisms; "none" (or no login) sends no AUTH at all.
    authMethod: useAuth && smtp.authMethod !== "none" ? SMTP_AUTH_METHODS[smtp.authMethod] : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    dnsTimeout: 10_000,
    logger: false,
    debug: false,
  });
  return {
    kind: "smtp",
    async send(message) {
      await mailer.sendMail(mailOptions(message));
    },
  };
}

function outboxTransport(dir: string): MailTransport {
  // buffer: the whole message in memory (they are a few KB); windows newlines: what RFC 5322 requires on the wire.
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
  const outbox = resolve(dir);
  return {
    kind: "outbox",
    async send(message) {
      const info = await builder.sendMail(mailOptions(message));
      const bytes = info.message as Buffer;
      await mkdir(outbox, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/:/g, "-")}-${fileSafe(message.messageId)}.eml`;
      const path = join(outbox, name);
      // Temp file then rename, so a reader (or a crash) never sees half a message. The mode keeps links private.
      const temp = join(outbox, `.${name}.${process.pid}.tmp`);
      await writeFile(temp, bytes, { mode: 0o600 });
      await rename(temp, path);
      log.info("mail written to outbox", { path });
    },
  };
}

function mailOptions(message: OutgoingMail) {
  return {
    from: message.from,
    // An address object, not a string: a string is parsed as an address *list*, and the recipient must stay
    // exactly one mailbox whatever characters the sign-up form let through.
    to: { name: "", address: message.to },
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: message.messageId,
  };
}

function fileSafe(messageId: string): string {
  return messageId.replace(/^<|>$/g, "").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
}
