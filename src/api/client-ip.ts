/**
 * The client's address behind reverse proxies. X-Forwarded-For is believed only when the direct peer is a
 * trusted proxy (loopback always, plus TRUSTED_PROXY_IP); we then walk the chain from the right and take the
 * first address that is not a trusted proxy, so a client cannot forge its address by sending the header.
 */
import ipaddr from "ipaddr.js";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export class TrustedProxies {
  private readonly ranges: Range[];

  constructor(entries: string[]) {
    this.ranges = ["127.0.0.0/8", "::1/128", ...entries].map((entry) => {
      if (entry.includes("/")) return ipaddr.parseCIDR(entry);
      const address = ipaddr.parse(entry);
      return [address, address.kind() === "ipv4" ? 32 : 128] as Range;
    });
  }

  /** Throws on a malformed entry, for config validation at start. */
  static validate(entries: string[]): void {
    new TrustedProxies(entries);
  }

  /**
   * What an address parses to, remembered: every request asks about its peer (twice, with the forwarded
   * protocol) and peers are few (the reverse proxy, or a handful of clients), while parsing an address with
   * ipaddr.js showed up at ~1.5 % of a timeline request's CPU. Bounded: emptied when it grows past MEMO_MAX.
   */
  private readonly memo = new Map<string, { trusted: boolean; normal: string; valid: boolean }>();

  private examine(address: string): { trusted: boolean; normal: string; valid: boolean } {
    let seen = this.memo.get(address);
    if (!seen) {
      const parsed = parseAddress(address);
      seen = {
        valid: parsed !== null,
        normal: parsed?.toString() ?? address,
        trusted: parsed !== null && this.ranges.some(([range, bits]) => parsed.kind() === range.kind() && parsed.match(range, bits)),
      };
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(address, seen);
    }
    return seen;
  }

  isTrusted(address: string): boolean {
    return this.examine(address).trusted;
  }

  clientIp(peer: string, forwardedFor: string | null): string {
    if (!forwardedFor || !this.isTrusted(peer)) return this.examine(peer).normal;
    const hops = forwardedFor
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = this.examine(hops[i]!);
      if (!hop.valid) return this.examine(peer).normal; // garbage in the header: trust only what we saw
      if (!hop.trusted) return hop.normal;
    }
    return this.examine(hops[0] ?? peer).normal;
  }
}

const MEMO_MAX = 10_000;

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(text)) return null;
  const parsed = ipaddr.parse(text);
  // ::ffff:1.2.3.4 is how dual-stack sockets report IPv4 peers.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

