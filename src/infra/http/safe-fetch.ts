/**
 * The one outbound HTTP client for everything federated (actor and key fetches, WebFinger, deliveries…).
 *
 * SSRF guard: the host is resolved here (every address, node:dns), and the request is refused unless every
 * address is ordinary public unicast, or lies inside config.allowedPrivateAddresses (Mastodon's
 * ALLOWED_PRIVATE_ADDRESSES, the one explicit allowance for tests and LANs). IPv4-mapped IPv6 addresses are
 * judged by the IPv4 address inside; odd IPv4 spellings (127.1, 0x7f000001, 2130706433, 0177.0.0.1) are
 * normalised by the WHATWG URL parser and by ipaddr.js before they are judged.
 *
 * DNS rebinding: we connect to the address we checked, not to the name. The request goes to
 * `scheme://<checked ip>:port/path` with the Host header set to the original host and, for https, the TLS
 * server name (SNI and certificate check) set to the original host name — so a second DNS answer can never
 * redirect the connection somewhere we did not check.
 *
 * Redirects are followed by hand (at most 5), each hop checked again. Plain http is allowed only towards an
 * address inside the allowed private ranges. Bun's fetch has no separate connect timeout, so the deadline
 * for the response headers (connect 5 s + read 10 s by default) and a total deadline bound every request.
 * Bodies are read as a stream and cut off at maxBytes (1 MB by default).
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { buildVersion } from "../build-info";
import type { Config } from "../config";

export type SafeFetchErrorReason =
  | "bad_url"
  | "forbidden_scheme"
  | "forbidden_address"
  | "blocked_domain"
  | "dns_failure"
  | "too_many_redirects"
  | "timeout"
  | "too_large"
  | "network";

export class SafeFetchError extends Error {
  constructor(
    readonly reason: SafeFetchErrorReason,
    message: string,
    readonly url?: string,
  ) {
    super(message);
    this.name = "SafeFetchError";
  }
}

export interface SafeFetchOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Largest body accepted, in bytes (default 1 MB, Mastodon's cap for fetched JSON). */
  maxBytes?: number;
  /** Deadline for the response headers: connect plus the server's think time (default 15 s). */
  headersTimeoutMs?: number;
  /** Deadline for the whole exchange including the body (default 30 s). */
  timeoutMs?: number;
  maxRedirects?: number;
  /**
   * Extra headers for each hop (e.g. an HTTP signature, which covers the host and path and so must be made
   * again after a redirect). Called with the final method, URL and body of that hop.
   */
  sign?: (request: { method: string; url: URL; headers: Record<string, string>; body?: string | Uint8Array }) => Record<string, string>;
}

export interface SafeResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  body: Uint8Array;
  text(): string;
  json(): unknown;
}

/** What the client needs from the configuration; a domain check hook keeps this layer free of the database. */
export interface SafeFetchSettings {
  allowedPrivateAddresses: Config["allowedPrivateAddresses"];
  baseUrl: string;
  /** Resolves true for a host the instance refuses to talk to (a suspended domain). */
  isBlockedHost?: (host: string) => boolean | Promise<boolean>;
  /** For tests: a resolver instead of node:dns. */
  resolve?: (host: string) => Promise<string[]>;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function userAgent(baseUrl: string): string {
  return `Woolly/${buildVersion()} (+${baseUrl}/)`;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

const parsedRanges = new WeakMap<readonly string[], Range[]>();

function allowedRanges(list: readonly string[]): Range[] {
  let ranges = parsedRanges.get(list);
  if (!ranges) {
    ranges = list.map((entry) => {
      if (entry.includes("/")) return ipaddr.parseCIDR(entry) as Range;
      const address = ipaddr.parse(entry);
      return [address, address.kind() === "ipv4" ? 32 : 128] as Range;
    });
    parsedRanges.set(list, ranges);
  }
  return ranges;
}

/** An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries. */
function unmapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) return (address as ipaddr.IPv6).toIPv4Address();
  return address;
}

function inAllowedRanges(address: ipaddr.IPv4 | ipaddr.IPv6, ranges: Range[]): boolean {
  const candidates = [address, unmapped(address)];
  return ranges.some(([base, bits]) => candidates.some((c) => c.kind() === base.kind() && c.match(base as never, bits)));
}

export type AddressVerdict = "public" | "allowed_private" | "forbidden";

/**
 * Only ipaddr.js's "unicast" range counts as public: loopback, private, link-local (169.254.169.254, the
 * cloud metadata address, is one), unique-local, unspecified, multicast, broadcast, carrier-grade NAT,
 * reserved, and the IPv6 forms that tunnel an IPv4 address (6to4, Teredo, NAT64) are all refused.
 */
export function judgeAddress(text: string, allowed: readonly string[]): AddressVerdict {
  if (!ipaddr.isValid(text)) return "forbidden";
  const address = ipaddr.parse(text);
  if (inAllowedRanges(address, allowedRanges(allowed))) return "allowed_private";
  return unmapped(address).range() === "unicast" ? "public" : "forbidden";
}

async function defaultResolve(host: string): Promise<string[]> {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/** The host of a URL as an IP literal when it is one (brackets removed), else undefined. */
function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? ipaddr.parse(bare).toString() : undefined;
}

/** Resolve a URL's host and decide whether we may connect; the addresses we may use, in DNS order. */
export async function checkTarget(url: URL, settings: SafeFetchSettings): Promise<string[]> {
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new SafeFetchError("forbidden_scheme", `${url.protocol} URLs are not fetched`, url.href);
  if (url.username || url.password) throw new SafeFetchError("bad_url", "URLs with credentials are not fetched", url.href);
  if (settings.isBlockedHost && (await settings.isBlockedHost(url.host.toLowerCase())))
    throw new SafeFetchError("blocked_domain", `${url.host} is blocked`, url.href);
  const literal = ipLiteral(url.hostname);
  let addresses: string[];
  if (literal) addresses = [literal];
  else {
    try {
      addresses = await (settings.resolve ?? defaultResolve)(url.hostname);
    } catch (error) {
      throw new SafeFetchError("dns_failure", `cannot resolve ${url.hostname}: ${(error as Error).message}`, url.href);
    }
    if (addresses.length === 0) throw new SafeFetchError("dns_failure", `${url.hostname} has no address`, url.href);
  }
  // Every answer must pass: a name with one public and one private record would otherwise be a coin toss.
  const verdicts = addresses.map((a) => ({ address: a, verdict: judgeAddress(a, settings.allowedPrivateAddresses) }));
  const refused = verdicts.find((v) => v.verdict === "forbidden");
  if (refused) throw new SafeFetchError("forbidden_address", `${url.hostname} resolves to a forbidden address (${refused.address})`, url.href);
  if (url.protocol === "http:" && verdicts.some((v) => v.verdict !== "allowed_private"))
    throw new SafeFetchError("forbidden_scheme", "plain http is only allowed towards ALLOWED_PRIVATE_ADDRESSES", url.href);
  return verdicts.map((v) => v.address);
}

function byAddress(url: URL, address: string): string {
  const host = address.includes(":") ? `[${address}]` : address;
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ""}${url.pathname}${url.search}`;
}

async function readCapped(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new SafeFetchError("too_large", `the response is larger than ${maxBytes} bytes`, url);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new SafeFetchError("too_large", `the response is larger than ${maxBytes} bytes`, url);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export async function safeFetch(input: string | URL, settings: SafeFetchSettings, options: SafeFetchOptions = {}): Promise<SafeResponse> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new SafeFetchError("bad_url", "not a URL", String(input));
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = options.maxRedirects ?? 5;
  const total = new AbortController();
  const totalTimer = setTimeout(() => total.abort(new SafeFetchError("timeout", "the request took too long")), options.timeoutMs ?? 30_000);
  let method: string = options.method ?? "GET";
  let body = options.body;
  try {
    for (let hop = 0; ; hop++) {
      const addresses = await checkTarget(url, settings);
      const headers: Record<string, string> = {
        "user-agent": userAgent(settings.baseUrl),
        ...options.headers,
        host: url.host,
      };
      Object.assign(headers, options.sign?.({ method, url, headers, body }) ?? {});
      const headersDeadline = new AbortController();
      const headersTimer = setTimeout(
        () => headersDeadline.abort(new SafeFetchError("timeout", "no answer in time")),
        options.headersTimeoutMs ?? 15_000,
      );
      let response: Response | undefined;
      try {
        // Each checked address in turn while the connection itself fails (a name with an IPv6 and an IPv4
        // record where only one answers); never an address that was not checked.
        for (const [index, address] of addresses.entries()) {
          try {
            response = await fetch(byAddress(url, address), {
              method,
              headers,
              body: body as string | undefined,
              redirect: "manual",
              proxy: false,
              signal: AbortSignal.any([total.signal, headersDeadline.signal]),
              // The certificate is checked against the name we were asked for, not the address we connect to.
              tls: url.protocol === "https:" && !ipLiteral(url.hostname) ? { serverName: url.hostname } : undefined,
            } as BunFetchRequestInit);
            break;
          } catch (error) {
            const reason = total.signal.aborted ? total.signal.reason : headersDeadline.signal.aborted ? headersDeadline.signal.reason : undefined;
            if (reason instanceof SafeFetchError) throw new SafeFetchError(reason.reason, reason.message, url.href);
            const refused = (error as { code?: string }).code === "ConnectionRefused" || /refused|unreachable/i.test((error as Error).message);
            if (!refused || index === addresses.length - 1) throw new SafeFetchError("network", (error as Error).message, url.href);
          }
        }
      } finally {
        clearTimeout(headersTimer);
      }
      if (!response) throw new SafeFetchError("network", "no address answered", url.href);
      if (REDIRECT_STATUSES.has(response.status) && response.headers.get("location")) {
        await response.body?.cancel().catch(() => {});
        if (hop >= maxRedirects) throw new SafeFetchError("too_many_redirects", `more than ${maxRedirects} redirects`, url.href);
        try {
          url = new URL(response.headers.get("location")!, url);
        } catch {
          throw new SafeFetchError("bad_url", "a redirect to something that is not a URL", url.href);
        }
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        continue;
      }
      const bytes = await readCapped(response, maxBytes, url.href).catch((error) => {
        if (error instanceof SafeFetchError) throw error;
        if (total.signal.aborted) throw new SafeFetchError("timeout", "the request took too long", url.href);
        throw new SafeFetchError("network", (error as Error).message, url.href);
      });
      const finalUrl = url.href;
      return {
        status: response.status,
        headers: response.headers,
        url: finalUrl,
        body: bytes,
        text: () => new TextDecoder().decode(bytes),
        json: () => JSON.parse(new TextDecoder().decode(bytes)),
      };
    }
  } finally {
    clearTimeout(totalTimer);
  }
}

/** The settings every caller in the app uses: the configuration's allowance and the instance's name. */
export function fetchSettings(config: Pick<Config, "allowedPrivateAddresses" | "baseUrl">, isBlockedHost?: SafeFetchSettings["isBlockedHost"]): SafeFetchSettings {
  return { allowedPrivateAddresses: config.allowedPrivateAddresses, baseUrl: config.baseUrl, isBlockedHost };
}
