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

  isTrusted(address: string): boolean {
    const parsed = parseAddress(address);
    if (!parsed) return false;
    return this.ranges.some(([range, bits]) => parsed.kind() === range.kind() && parsed.match(range, bits));
  }

  clientIp(peer: string, forwardedFor: string | null): string {
    if (!forwardedFor || !this.isTrusted(peer)) return normalise(peer);
    const hops = forwardedFor
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (!parseAddress(hop)) return normalise(peer); // garbage in the header: trust only what we saw
      if (!this.isTrusted(hop)) return normalise(hop);
    }
    return normalise(hops[0] ?? peer);
  }
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(text)) return null;
  const parsed = ipaddr.parse(text);
  // ::ffff:1.2.3.4 is how dual-stack sockets report IPv4 peers.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

function normalise(address: string): string {
  return parseAddress(address)?.toString() ?? address;
}
