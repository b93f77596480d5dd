import { expect, test } from "bun:test";
import { TrustedProxies } from "../../src/api/client-ip";

test("X-Forwarded-For is believed only from trusted proxies", () => {
  const proxies = new TrustedProxies(["10.0.0.0/8"]);
  expect(proxies.clientIp("203.0.113.9", "1.2.3.4")).toBe("203.0.113.9");
  expect(proxies.clientIp("127.0.0.1", "1.2.3.4")).toBe("1.2.3.4");
  expect(proxies.clientIp("::ffff:127.0.0.1", "1.2.3.4")).toBe("1.2.3.4");
  // spoofed left-most entry: the right-most untrusted hop wins
  expect(proxies.clientIp("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.2.3")).toBe("1.2.3.4");
  expect(proxies.clientIp("127.0.0.1", "garbage")).toBe("127.0.0.1");
  expect(proxies.clientIp("10.9.9.9", "2001:db8::1")).toBe("2001:db8::1");
});

test("a malformed TRUSTED_PROXY_IP entry is refused", () => {
  expect(() => TrustedProxies.validate(["10.0.0.0/99"])).toThrow();
  expect(() => TrustedProxies.validate(["not-an-ip"])).toThrow();
});
