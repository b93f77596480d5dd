/** Handles, remote actor documents and remote profile text, without a network. */
import { describe, expect, test } from "bun:test";
import { htmlToPlainText } from "../../src/features/federation/plain-text";
import { parseActor, parseHandle } from "../../src/features/federation/remote-accounts";

describe("parseHandle", () => {
  test("accepted forms", () => {
    expect(parseHandle("alice@example.com")).toEqual({ username: "alice", domain: "example.com" });
    expect(parseHandle("@Alice@Example.COM")).toEqual({ username: "Alice", domain: "example.com" });
    expect(parseHandle("acct:alice@127.0.0.1:8080")).toEqual({ username: "alice", domain: "127.0.0.1:8080" });
  });
  test("refused forms", () => {
    for (const bad of ["alice", "alice@", "@example.com", "a@b@c", "alice@exa mple.com", "alice@example.com/path", "https://example.com/@alice"]) {
      expect(parseHandle(bad)).toBeUndefined();
    }
  });
});

describe("parseActor", () => {
  const base = {
    id: "https://remote.example/users/alice",
    type: "Person",
    preferredUsername: "alice",
    inbox: "https://remote.example/users/alice/inbox",
    publicKey: { id: "https://remote.example/users/alice#main-key", owner: "https://remote.example/users/alice", publicKeyPem: "PEM" },
  };
  test("a minimal Person", () => {
    const actor = parseActor(base)!;
    expect(actor.host).toBe("remote.example");
    expect(actor.publicKey).toEqual({ id: base.publicKey.id, owner: base.id, pem: "PEM" });
    expect(actor.columns.url).toBe(base.id);
    expect(actor.columns.bot).toBe(false);
  });
  test("Service is a bot; fields and text are plain", () => {
    const actor = parseActor({
      ...base,
      type: "Service",
      name: "<img src=x onerror=alert(1)>Al",
      summary: '<p>Hi <a href="javascript:alert(1)">there</a></p>',
      attachment: [{ type: "PropertyValue", name: "Site", value: '<a href="https://a.example" rel="me">a.example</a>' }, { type: "Note" }],
      url: [{ type: "Link", href: "https://remote.example/@alice" }],
    })!;
    expect(actor.columns.bot).toBe(true);
    expect(actor.columns.display_name).toBe("Al");
    expect(actor.columns.note).toBe("Hi there");
    expect(actor.columns.fields).toEqual([{ name: "Site", value: "a.example" }]);
    expect(actor.columns.url).toBe("https://remote.example/@alice");
  });
  test("a key owned by someone else is not the actor's", () => {
    expect(parseActor({ ...base, publicKey: { ...base.publicKey, owner: "https://evil.example/users/mallory" } })!.publicKey).toBeNull();
  });
  test("not actors", () => {
    expect(parseActor({ ...base, type: "Note" })).toBeUndefined();
    expect(parseActor({ ...base, id: "javascript:alert(1)" })).toBeUndefined();
    expect(parseActor({ ...base, preferredUsername: "a/b" })).toBeUndefined();
    expect(parseActor({ ...base, preferredUsername: undefined })).toBeUndefined();
  });
});

describe("htmlToPlainText", () => {
  test("keeps text, drops markup and scripts, decodes entities", () => {
    expect(htmlToPlainText("<p>a &amp; b</p><p>c<br>d</p><script>evil()</script><style>p{}</style>")).toBe("a & b\n\nc\nd");
    expect(htmlToPlainText("&#60;b&#x3e; &lt;i&gt; &bogus;")).toBe("<b> <i> &bogus;");
    expect(htmlToPlainText("x".repeat(10), 4)).toBe("xxxx");
  });
});
