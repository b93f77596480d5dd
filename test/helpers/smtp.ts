/**
 * A real SMTP relay for tests (smtp-server on loopback) that records what it accepts and can refuse on
 * demand, plus just enough MIME parsing to read what nodemailer wrote.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

// ---- a real SMTP relay that records what it accepts ----

export interface Received {
  from: string;
  to: string[];
  raw: string;
  user?: string;
}

export const RELAY_LOGIN = "mailer";
export const RELAY_PASSWORD = "s3cret-relay-pass";

/** The link on its own line in a mail's text part (our templates put it there). */
export function linkIn(raw: string, path: string): string {
  const text = partOf(parseMime(raw), "text/plain").body;
  const line = text.split("\n").find((l) => l.includes(path));
  if (!line) throw new Error(`no ${path} link in the mail`);
  return line.trim();
}

export class Relay {
  readonly received: Received[] = [];
  /** How many more DATA commands to refuse with 451 (a temporary failure). */
  refuseNext = 0;
  /** The raw messages refused so far (to compare a retry with its first try). */
  readonly refused: string[] = [];
  private server?: SMTPServer;
  port = 0;

  async start(): Promise<number> {
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      authMethods: ["PLAIN", "LOGIN"],
      onAuth: (auth, _session, callback) => {
        if (auth.username === RELAY_LOGIN && auth.password === RELAY_PASSWORD) return callback(null, { user: auth.username });
        callback(Object.assign(new Error("Invalid credentials"), { responseCode: 535 }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          if (this.refuseNext > 0) {
            this.refuseNext--;
            this.refused.push(Buffer.concat(chunks).toString("utf8"));
            return callback(Object.assign(new Error("Try again later"), { responseCode: 451 }));
          }
          this.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString("utf8"),
            user: typeof session.user === "string" ? session.user : undefined,
          });
          callback();
        });
      },
      logger: false,
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this.port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---- just enough MIME to read what nodemailer wrote (quoted-printable or base64, folded headers) ----

export interface MimePart {
  headers: Record<string, string>;
  body: string;
  parts: MimePart[];
}

export function parseMime(raw: string): MimePart {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const rawBody = raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const type = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.startsWith("multipart/") && boundary) {
    const sections = rawBody.split(`--${boundary}`).slice(1, -1);
    return { headers, body: "", parts: sections.map((s) => parseMime(s.replace(/^\r\n/, ""))) };
  }
  const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  let bytes: Buffer;
  if (encoding === "base64") bytes = Buffer.from(rawBody.replace(/\s+/g, ""), "base64");
  else if (encoding === "quoted-printable") bytes = decodeQuotedPrintable(rawBody);
  else bytes = Buffer.from(rawBody, "utf8");
  // Line ends on the wire are CRLF; compare text the way it was written.
  return { headers, body: bytes.toString("utf8").replace(/\r\n/g, "\n"), parts: [] };
}

export function decodeQuotedPrintable(text: string): Buffer {
  const joined = text.replace(/=\r\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === "=" && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
      out.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(joined[i]!, "utf8"));
  }
  return Buffer.from(out);
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as nodemailer writes a non-ASCII or long subject. */
export function decodeHeader(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_m, _charset, kind: string, data: string) =>
      kind.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : decodeQuotedPrintable(data.replace(/_/g, " ")).toString("utf8"),
    );
}

export function partOf(message: MimePart, type: string): MimePart {
  const stack = [message];
  while (stack.length) {
    const part = stack.shift()!;
    if ((part.headers["content-type"] ?? "").startsWith(type)) return part;
    stack.push(...part.parts);
  }
  throw new Error(`no ${type} part`);
}

