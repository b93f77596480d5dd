/**
 * FEP-8fcf's partial-followers digest and Mastodon's Collection-Synchronization header syntax, checked against
 * a vector computed here independently (node:crypto hex digests XORed as big integers), not by re-running
 * the same byte loop.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { followersDigest, originOf, parseSynchronizationHeader } from "../../src/features/federation/followers-digest";

/** XOR of the SHA-256 of each distinct URI, done on 256-bit integers. */
function referenceDigest(uris: string[]): string {
  let acc = 0n;
  for (const uri of new Set(uris)) acc ^= BigInt(`0x${createHash("sha256").update(uri, "utf8").digest("hex")}`);
  return acc.toString(16).padStart(64, "0");
}

describe("followersDigest", () => {
  const uris = ["https://b.example/users/h1_one", "https://b.example/users/h1_two", "https://b.example/ap/users/12345", "https://b.example/users/h1_ünïcode"];

  test("one URI: its SHA-256", () => {
    expect(followersDigest([uris[0]!])).toBe(createHash("sha256").update(uris[0]!).digest("hex"));
  });

  test("several: the XOR of their SHA-256, whatever the order; duplicates count once", () => {
    expect(followersDigest(uris)).toBe(referenceDigest(uris));
    expect(followersDigest([...uris].reverse())).toBe(referenceDigest(uris));
    expect(followersDigest([...uris, uris[1]!])).toBe(referenceDigest(uris));
    // A different set gives a different digest (so a lost follower is noticed).
    expect(followersDigest(uris.slice(1))).not.toBe(followersDigest(uris));
  });

  test("nobody: 64 zeros; a URI twice cancels nothing", () => {
    expect(followersDigest([])).toBe("0".repeat(64));
    expect(followersDigest([uris[0]!, uris[0]!])).not.toBe("0".repeat(64));
  });
});

describe("parseSynchronizationHeader", () => {
  const digest = referenceDigest(["https://b.example/users/h1_one"]);

  test("Mastodon's order and Fedify's order both parse; the digest is lower-cased", () => {
    const mastodon = `collectionId="https://a.example/users/x/followers", digest="${digest.toUpperCase()}", url="https://a.example/users/x/followers_synchronization"`;
    expect(parseSynchronizationHeader(mastodon)).toEqual({ collectionId: "https://a.example/users/x/followers", url: "https://a.example/users/x/followers_synchronization", digest });
    const fedify = `collectionId="https://a.example/users/x/followers", url="https://a.example/users/x/followers?base-url=https%3A%2F%2Fb.example%2F", digest="${digest}"`;
    expect(parseSynchronizationHeader(fedify)?.url).toBe("https://a.example/users/x/followers?base-url=https%3A%2F%2Fb.example%2F");
  });

  test("missing parameters, a digest that is not 64 hex digits, or an oversized header: ignored", () => {
    expect(parseSynchronizationHeader(`collectionId="https://a.example/f", digest="${digest}"`)).toBeUndefined();
    expect(parseSynchronizationHeader(`collectionId="https://a.example/f", url="https://a.example/s", digest="${digest.slice(1)}"`)).toBeUndefined();
    expect(parseSynchronizationHeader(`collectionId="https://a.example/f", url="https://a.example/s", digest="${"g".repeat(64)}"`)).toBeUndefined();
    expect(parseSynchronizationHeader(`collectionId="a", url="b", digest="${digest}", pad="${"x".repeat(5000)}"`)).toBeUndefined();
  });
});

test("originOf: scheme, host and port; nothing for a non-URL", () => {
  expect(originOf("https://B.example:8443/users/x")).toBe("https://b.example:8443");
  expect(originOf("not a url")).toBeUndefined();
});
