/**
 * HTTP Signatures with real RSA keys: what we sign verifies (cavage and RFC 9421), and tampered bodies,
 * other keys, stale or future dates, missing digests and unsigned requests are refused.
 */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, createSign } from "node:crypto";
import { parseSignature, SignatureError, signCavage, signRfc9421, sha256Base64, type IncomingRequest } from "../../src/infra/http/signatures";

function keys() {
  return generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}
const alice = keys();
const mallory = keys();
const keyId = "https://remote.example/users/alice#main-key";
const inbox = new URL("https://woolly.test/users/bob/inbox");
const body = JSON.stringify({ type: "Follow", actor: "https://remote.example/users/alice" });

function incoming(method: string, headers: Record<string, string>, bytes?: string, url = inbox): IncomingRequest {
  return { method, urls: [url.href], headers: new Headers(headers), body: bytes === undefined ? undefined : new TextEncoder().encode(bytes) };
}

function signedPost(options: { now?: Date; scheme?: "cavage" | "rfc9421"; privateKeyPem?: string } = {}) {
  const headers: Record<string, string> = { host: inbox.host, "content-type": "application/activity+json" };
  const sign = options.scheme === "rfc9421" ? signRfc9421 : signCavage;
  Object.assign(headers, sign({ method: "POST", url: inbox, headers, body, keyId, privateKeyPem: options.privateKeyPem ?? alice.privateKey, now: options.now }));
  return headers;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
    return "accepted";
  } catch (error) {
    if (error instanceof SignatureError) return error.message;
    throw error;
  }
}

describe("draft-cavage", () => {
  test("a signed POST verifies with the signer's key and not with another", () => {
    const headers = signedPost();
    expect(headers.signature).toContain('algorithm="rsa-sha256"');
    expect(headers.signature).toContain('headers="(request-target) host date digest content-type"');
    expect(headers.digest).toBe(`SHA-256=${sha256Base64(body)}`);
    const parsed = parseSignature(incoming("POST", headers, body));
    expect(parsed.keyId).toBe(keyId);
    expect(parsed.verify(alice.publicKey)).toBe(true);
    expect(parsed.verify(mallory.publicKey)).toBe(false);
    expect(parsed.verify("not a key")).toBe(false);
  });

  test("signed by another key", () => {
    const parsed = parseSignature(incoming("POST", signedPost({ privateKeyPem: mallory.privateKey }), body));
    expect(parsed.verify(alice.publicKey)).toBe(false);
  });

  test("a tampered body fails the digest", () => {
    expect(refusal(() => parseSignature(incoming("POST", signedPost(), body.replace("Follow", "Delete"))))).toMatch(/Digest does not match/);
  });

  test("a tampered Digest header fails the signature", () => {
    const tampered = body.replace("Follow", "Delete");
    const headers = { ...signedPost(), digest: `SHA-256=${sha256Base64(tampered)}` };
    expect(parseSignature(incoming("POST", headers, tampered)).verify(alice.publicKey)).toBe(false);
  });

  test("another path fails the signature", () => {
    const parsed = parseSignature(incoming("POST", signedPost(), body, new URL("https://woolly.test/inbox")));
    expect(parsed.verify(alice.publicKey)).toBe(false);
  });

  test("stale and future dates", () => {
    const now = Date.now();
    expect(refusal(() => parseSignature(incoming("POST", signedPost({ now: new Date(now - 2 * 3600_000) }), body)))).toMatch(/expired/);
    expect(refusal(() => parseSignature(incoming("POST", signedPost({ now: new Date(now + 2 * 3600_000) }), body)))).toMatch(/future/);
    // Within Mastodon's window: 30 minutes old.
    expect(parseSignature(incoming("POST", signedPost({ now: new Date(now - 30 * 60_000) }), body)).verify(alice.publicKey)).toBe(true);
  });

  test("unsigned, missing digest, unsupported algorithm", () => {
    expect(refusal(() => parseSignature(incoming("POST", { host: inbox.host }, body)))).toMatch(/not signed/);
    const headers = signedPost();
    const { digest: _d, ...noDigest } = headers;
    expect(refusal(() => parseSignature(incoming("POST", noDigest, body)))).toMatch(/Digest header missing/);
    const hmac = { ...headers, signature: headers.signature!.replace("rsa-sha256", "hmac-sha256") };
    expect(refusal(() => parseSignature(incoming("POST", hmac, body)))).toMatch(/Unsupported algorithm/);
    expect(refusal(() => parseSignature(incoming("POST", { ...headers, signature: "garbage" }, body)))).toMatch(/cannot be parsed|keyId/);
  });

  test("a POST signature that does not cover digest is refused", () => {
    const date = new Date().toUTCString();
    const text = `(request-target): post ${inbox.pathname}\nhost: ${inbox.host}\ndate: ${date}`;
    const signature = createSign("sha256").update(text).sign(alice.privateKey, "base64");
    const headers = {
      host: inbox.host,
      date,
      digest: `SHA-256=${sha256Base64(body)}`,
      signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="(request-target) host date",signature="${signature}"`,
    };
    expect(refusal(() => parseSignature(incoming("POST", headers, body)))).toMatch(/must cover digest/);
  });

  test("hs2019 with (created) as some servers send it", () => {
    const created = Math.floor(Date.now() / 1000);
    const digest = `SHA-256=${sha256Base64(body)}`;
    const text = `(request-target): post ${inbox.pathname}\n(created): ${created}\nhost: ${inbox.host}\ndigest: ${digest}`;
    const signature = createSign("sha256").update(text).sign(alice.privateKey, "base64");
    const headers = {
      host: inbox.host,
      digest,
      signature: `keyId="${keyId}",algorithm="hs2019",created=${created},headers="(request-target) (created) host digest",signature="${signature}"`,
    };
    expect(parseSignature(incoming("POST", headers, body)).verify(alice.publicKey)).toBe(true);
  });

  test("a signed GET covers host, date and accept", () => {
    const url = new URL("https://remote.example/users/alice");
    const headers: Record<string, string> = { accept: "application/activity+json", host: url.host };
    Object.assign(headers, signCavage({ method: "GET", url, headers, keyId, privateKeyPem: alice.privateKey }));
    expect(headers.signature).toContain('headers="(request-target) host date accept"');
    expect(headers.digest).toBeUndefined();
    expect(parseSignature(incoming("GET", headers, undefined, url)).verify(alice.publicKey)).toBe(true);
  });
});

describe("RFC 9421", () => {
  test("a signed POST verifies, and a tampered one does not", () => {
    const headers = signedPost({ scheme: "rfc9421" });
    expect(headers["signature-input"]).toMatch(/^sig1=\("@method" "@target-uri" "content-digest"\);created=\d+;keyid="[^"]+";alg="rsa-v1_5-sha256"$/);
    const parsed = parseSignature(incoming("POST", headers, body));
    expect(parsed.scheme).toBe("rfc9421");
    expect(parsed.keyId).toBe(keyId);
    expect(parsed.verify(alice.publicKey)).toBe(true);
    expect(parsed.verify(mallory.publicKey)).toBe(false);
    expect(refusal(() => parseSignature(incoming("POST", headers, body + " ")))).toMatch(/Content-Digest does not match/);
    expect(parseSignature(incoming("POST", headers, body, new URL("https://woolly.test/inbox"))).verify(alice.publicKey)).toBe(false);
  });

  test("stale created is refused", () => {
    const headers = signedPost({ scheme: "rfc9421", now: new Date(Date.now() - 3 * 3600_000) });
    expect(refusal(() => parseSignature(incoming("POST", headers, body)))).toMatch(/expired/);
  });

  test("missing required components or parameters", () => {
    const headers = signedPost({ scheme: "rfc9421" });
    const withoutDigest = { ...headers, "signature-input": headers["signature-input"]!.replace(' "content-digest"', "") };
    expect(refusal(() => parseSignature(incoming("POST", withoutDigest, body)))).toMatch(/content-digest/);
    const withoutCreated = { ...headers, "signature-input": headers["signature-input"]!.replace(/;created=\d+/, "") };
    expect(refusal(() => parseSignature(incoming("POST", withoutCreated, body)))).toMatch(/created/);
    expect(refusal(() => parseSignature(incoming("POST", { ...headers, "signature-input": "nonsense(" }, body)))).toMatch(/cannot be parsed/);
  });
});
