/**
 * HTTP Signatures as the fediverse uses them, with node:crypto only.
 *
 * Outgoing: draft-cavage-http-signatures-12 as Mastodon sends it — keyId `<actor>#main-key`, algorithm
 * rsa-sha256, covering `(request-target) host date digest content-type` on POST (with `Digest: SHA-256=…` of
 * the body) and `(request-target) host date accept` on GET. An RFC 9421 signer (`@method @target-uri
 * content-digest`, rsa-v1_5-sha256) is here too, for the "double knock" retry when a peer refuses cavage.
 *
 * Incoming: cavage with rsa-sha256 or hs2019 (an RSA key, SHA-256), and RFC 9421 when Signature-Input is
 * present. The body digest (Digest or Content-Digest) is always checked against the bytes received.
 *
 * Time window (Mastodon's, documented in docs/federation.md): a signature made more than 1 h in the future is
 * refused; a signature older than 1 h 5 min is refused (Mastodon lets a signature live 5 min, plus 1 h of clock
 * skew). An explicit `(expires)` / `expires` earlier than now − 1 h is refused as well.
 *
 * Parsing and checking (structure, digest, time) is separated from the RSA check so the caller can fetch the
 * key named by keyId in between, and check again with a re-fetched key when the first one fails (rotation).
 */
import { createHash, createPrivateKey, createPublicKey, sign as rsaSign, verify as rsaVerify, type KeyObject } from "node:crypto";

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignatureError";
  }
}

export const MAX_FUTURE_SKEW_MS = 60 * 60 * 1000;
export const MAX_AGE_MS = 65 * 60 * 1000;

export interface IncomingRequest {
  method: string;
  /** The URL as the sender addressed it (scheme, host, path, query). Several candidates may be tried. */
  urls: string[];
  headers: Headers;
  body?: Uint8Array;
}

export interface ParsedSignature {
  scheme: "draft-cavage" | "rfc9421";
  keyId: string;
  /** True when the signature verifies with this public key (PEM). Never throws. */
  verify(publicKeyPem: string): boolean;
}

// ---- digests ----

export function sha256Base64(body: Uint8Array | string): string {
  return createHash("sha256").update(body).digest("base64");
}

function checkDigestHeader(value: string, body: Uint8Array): void {
  // "SHA-256=abc=, SHA-512=…": the algorithm name is case-insensitive; we require and check SHA-256.
  const entries = value.split(",").map((part) => {
    const at = part.indexOf("=");
    return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()] as const;
  });
  const sha256 = entries.find(([alg]) => alg === "sha-256");
  if (!sha256) throw new SignatureError("Digest must include SHA-256");
  if (sha256[1] !== sha256Base64(body)) throw new SignatureError("Digest does not match the body");
}

function checkContentDigest(value: string, body: Uint8Array): void {
  // RFC 9530: sha-256=:base64:, sha-512=:base64:
  let checked = false;
  for (const match of value.matchAll(/([a-z0-9-]+)=:([A-Za-z0-9+/=]*):/gi)) {
    const alg = match[1]!.toLowerCase();
    if (alg !== "sha-256" && alg !== "sha-512") continue;
    const expected = createHash(alg.replace("-", "")).update(body).digest("base64");
    if (match[2] !== expected) throw new SignatureError("Content-Digest does not match the body");
    checked = true;
  }
  if (!checked) throw new SignatureError("Content-Digest must include sha-256 or sha-512");
}

function checkTime(createdMs: number | undefined, expiresMs: number | undefined, now: number): void {
  if (createdMs !== undefined) {
    if (!Number.isFinite(createdMs)) throw new SignatureError("The signature's date is not a valid date");
    if (createdMs > now + MAX_FUTURE_SKEW_MS) throw new SignatureError("The signature's date is too far in the future");
    if (createdMs < now - MAX_AGE_MS) throw new SignatureError("The signature has expired");
  }
  if (expiresMs !== undefined && Number.isFinite(expiresMs) && expiresMs < now - MAX_FUTURE_SKEW_MS) throw new SignatureError("The signature has expired");
}

function publicKey(pem: string): KeyObject | undefined {
  try {
    return createPublicKey(pem);
  } catch {
    return undefined;
  }
}

function verifyRsaSha256(pem: string, data: string, signature: Buffer): boolean {
  const key = publicKey(pem);
  if (!key || key.asymmetricKeyType !== "rsa") return false;
  try {
    return rsaVerify("sha256", Buffer.from(data), key, signature);
  } catch {
    return false;
  }
}

// ---- draft-cavage ----

function parseCavageParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /\s*([a-zA-Z]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*(?:,|$)/y;
  let index = 0;
  while (index < header.length) {
    re.lastIndex = index;
    const match = re.exec(header);
    if (!match) throw new SignatureError("The Signature header cannot be parsed");
    params[match[1]!.toLowerCase()] = match[2] ?? match[3] ?? "";
    index = re.lastIndex;
  }
  return params;
}

function requestTargets(method: string, urls: string[]): string[] {
  const out = new Set<string>();
  for (const raw of urls) {
    const url = new URL(raw);
    out.add(`${method.toLowerCase()} ${url.pathname}${url.search}`);
  }
  // Mastodon also accepts a request-target signed without the query string, for older senders.
  for (const raw of urls) out.add(`${method.toLowerCase()} ${new URL(raw).pathname}`);
  return [...out];
}

function cavageSigningString(names: string[], target: string, params: Record<string, string>, headers: Headers): string {
  return names
    .map((name) => {
      if (name === "(request-target)") return `(request-target): ${target}`;
      if (name === "(created)") return `(created): ${params.created ?? ""}`;
      if (name === "(expires)") return `(expires): ${params.expires ?? ""}`;
      const value = headers.get(name);
      if (value === null) throw new SignatureError(`The signed header ${name} is missing`);
      return `${name}: ${value.trim()}`;
    })
    .join("\n");
}

function parseCavage(request: IncomingRequest, header: string, now: number): ParsedSignature {
  const params = parseCavageParams(header);
  const keyId = params.keyid;
  if (!keyId || !params.signature) throw new SignatureError("The signature needs keyId and signature");
  const algorithm = (params.algorithm ?? "hs2019").toLowerCase();
  // hs2019 means "whatever the key says"; we only have RSA keys, so it is RSA with SHA-256 here.
  if (algorithm !== "rsa-sha256" && algorithm !== "hs2019") throw new SignatureError(`Unsupported algorithm ${algorithm}`);
  const names = (params.headers ?? "date").toLowerCase().split(/\s+/).filter(Boolean);
  if (!names.includes("date") && !names.includes("(created)")) throw new SignatureError("The signature must cover date or (created)");
  if (!names.includes("(request-target)") && !names.includes("digest")) throw new SignatureError("The signature must cover (request-target) or digest");
  const hasBody = request.method.toUpperCase() !== "GET" && request.method.toUpperCase() !== "HEAD";
  if (hasBody && !names.includes("digest")) throw new SignatureError("A POST signature must cover digest");
  if (!hasBody && !names.includes("host")) throw new SignatureError("A GET signature must cover host");

  const digest = request.headers.get("digest");
  if (hasBody || digest !== null) {
    if (digest === null) throw new SignatureError("Digest header missing");
    checkDigestHeader(digest, request.body ?? new Uint8Array());
  }
  const createdMs = names.includes("(created)") ? Number(params.created) * 1000 : Date.parse(request.headers.get("date") ?? "");
  const expiresMs = params.expires !== undefined ? Number(params.expires) * 1000 : undefined;
  checkTime(createdMs, expiresMs, now);

  const signature = Buffer.from(params.signature, "base64");
  const strings = requestTargets(request.method, request.urls).map((target) => cavageSigningString(names, target, params, request.headers));
  return {
    scheme: "draft-cavage",
    keyId,
    verify: (pem) => strings.some((s) => verifyRsaSha256(pem, s, signature)),
  };
}

export interface SignOptions {
  method: "GET" | "POST";
  url: URL;
  /** Headers already on the request; accept and content-type are covered when present. */
  headers: Record<string, string>;
  body?: string | Uint8Array;
  keyId: string;
  privateKeyPem: string;
  now?: Date;
}

/** Headers to add for a draft-cavage signature: date, digest (POST) and signature. */
export function signCavage(options: SignOptions): Record<string, string> {
  const lower = Object.fromEntries(Object.entries(options.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const added: Record<string, string> = { date: (options.now ?? new Date()).toUTCString() };
  const values: Record<string, string> = { ...lower, host: lower.host ?? options.url.host, ...added };
  const names = ["(request-target)", "host", "date"];
  if (options.method === "POST") {
    added.digest = `SHA-256=${sha256Base64(options.body ?? "")}`;
    values.digest = added.digest;
    names.push("digest");
    if (values["content-type"]) names.push("content-type");
  } else if (values.accept) {
    names.push("accept");
  }
  const target = `${options.method.toLowerCase()} ${options.url.pathname}${options.url.search}`;
  const text = names.map((name) => (name === "(request-target)" ? `(request-target): ${target}` : `${name}: ${values[name]}`)).join("\n");
  const signature = rsaSign("sha256", Buffer.from(text), createPrivateKey(options.privateKeyPem)).toString("base64");
  added.signature = `keyId="${options.keyId}",algorithm="rsa-sha256",headers="${names.join(" ")}",signature="${signature}"`;
  return added;
}

// ---- RFC 9421 ----

interface SignatureInput {
  label: string;
  /** The raw serialized inner list and parameters, exactly as sent: the value of @signature-params. */
  raw: string;
  components: string[];
  params: Record<string, string | number>;
}

function parseSignatureInput(header: string): SignatureInput[] {
  const out: SignatureInput[] = [];
  // label=("a" "b");created=1;keyid="x", label2=(…)…  Component parameters (e.g. ;req, ;name=) are unsupported.
  const re = /\s*([a-z0-9_.*-]+)=(\(((?:\s*"[^"]*")*)\s*\)((?:;[a-z0-9_.*-]+=(?:"[^"]*"|-?\d+))*))\s*(?:,|$)/iy;
  let index = 0;
  while (index < header.length) {
    re.lastIndex = index;
    const match = re.exec(header);
    if (!match) throw new SignatureError("The Signature-Input header cannot be parsed");
    const components = [...match[3]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!.toLowerCase());
    const params: Record<string, string | number> = {};
    for (const p of match[4]!.matchAll(/;([a-z0-9_.*-]+)=(?:"([^"]*)"|(-?\d+))/gi)) params[p[1]!.toLowerCase()] = p[2] ?? Number(p[3]);
    out.push({ label: match[1]!, raw: match[2]!, components, params });
    index = re.lastIndex;
  }
  return out;
}

function parseSignatureDictionary(header: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const match of header.matchAll(/([a-z0-9_.*-]+)=:([A-Za-z0-9+/=]*):/gi)) out.set(match[1]!, Buffer.from(match[2]!, "base64"));
  return out;
}

function componentValue(name: string, method: string, url: URL, headers: Headers): string {
  switch (name) {
    case "@method":
      return method.toUpperCase();
    case "@target-uri":
      return url.href;
    case "@authority":
      return url.host.toLowerCase();
    case "@scheme":
      return url.protocol.slice(0, -1);
    case "@path":
      return url.pathname;
    case "@query":
      return url.search || "?";
    case "@request-target":
      return `${url.pathname}${url.search}`;
  }
  if (name.startsWith("@")) throw new SignatureError(`Unsupported component ${name}`);
  const value = headers.get(name);
  if (value === null) throw new SignatureError(`The signed header ${name} is missing`);
  return value.trim();
}

function rfc9421Base(input: SignatureInput, method: string, url: URL, headers: Headers): string {
  const lines = input.components.map((c) => `"${c}": ${componentValue(c, method, url, headers)}`);
  lines.push(`"@signature-params": ${input.raw}`);
  return lines.join("\n");
}

function parseRfc9421(request: IncomingRequest, inputHeader: string, signatureHeader: string, now: number): ParsedSignature {
  const signatures = parseSignatureDictionary(signatureHeader);
  // The first label we can use; Mastodon does the same with the first signature it understands.
  const input = parseSignatureInput(inputHeader).find((i) => signatures.has(i.label));
  if (!input) throw new SignatureError("No signature matches Signature-Input");
  const keyId = input.params.keyid;
  if (typeof keyId !== "string" || !keyId) throw new SignatureError("The signature needs a keyid");
  if (typeof input.params.created !== "number") throw new SignatureError("The signature needs created");
  const alg = input.params.alg;
  if (alg !== undefined && alg !== "rsa-v1_5-sha256") throw new SignatureError(`Unsupported algorithm ${alg}`);
  if (!input.components.includes("@method") || !input.components.includes("@target-uri"))
    throw new SignatureError("The signature must cover @method and @target-uri");
  const hasBody = request.method.toUpperCase() !== "GET" && request.method.toUpperCase() !== "HEAD";
  if (hasBody && !input.components.includes("content-digest")) throw new SignatureError("A POST signature must cover content-digest");
  const contentDigest = request.headers.get("content-digest");
  if (hasBody || contentDigest !== null) {
    if (contentDigest === null) throw new SignatureError("Content-Digest header missing");
    checkContentDigest(contentDigest, request.body ?? new Uint8Array());
  }
  checkTime(input.params.created * 1000, typeof input.params.expires === "number" ? input.params.expires * 1000 : undefined, now);
  const signature = signatures.get(input.label)!;
  const bases = [...new Set(request.urls)].map((u) => rfc9421Base(input, request.method, new URL(u), request.headers));
  return { scheme: "rfc9421", keyId, verify: (pem) => bases.some((b) => verifyRsaSha256(pem, b, signature)) };
}

/** Headers to add for an RFC 9421 signature: content-digest (POST), signature-input and signature. */
export function signRfc9421(options: SignOptions): Record<string, string> {
  const added: Record<string, string> = {};
  const components = ["@method", "@target-uri"];
  const headers = new Headers(options.headers);
  if (options.method === "POST") {
    added["content-digest"] = `sha-256=:${sha256Base64(options.body ?? "")}:`;
    headers.set("content-digest", added["content-digest"]);
    components.push("content-digest");
  }
  const created = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const raw = `(${components.map((c) => `"${c}"`).join(" ")});created=${created};keyid="${options.keyId}";alg="rsa-v1_5-sha256"`;
  const input: SignatureInput = { label: "sig1", raw, components, params: {} };
  const base = rfc9421Base(input, options.method, options.url, headers);
  const signature = rsaSign("sha256", Buffer.from(base), createPrivateKey(options.privateKeyPem)).toString("base64");
  added["signature-input"] = `sig1=${raw}`;
  added.signature = `sig1=:${signature}:`;
  return added;
}

// ---- entry point ----

/**
 * Check an incoming request's signature structure, digest and time, and name the key it claims.
 * Throws SignatureError (the caller answers 401) when unsigned or when any check fails.
 */
export function parseSignature(request: IncomingRequest, now = Date.now()): ParsedSignature {
  const input = request.headers.get("signature-input");
  const signature = request.headers.get("signature");
  if (input !== null && signature !== null) return parseRfc9421(request, input, signature, now);
  if (signature !== null) return parseCavage(request, signature, now);
  const authorization = request.headers.get("authorization");
  if (authorization?.toLowerCase().startsWith("signature ")) return parseCavage(request, authorization.slice(10), now);
  throw new SignatureError("Request not signed");
}
