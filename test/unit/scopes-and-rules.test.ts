import { describe, expect, test } from "bun:test";
import { emailErrors, passwordErrors, usernameErrors } from "../../src/features/accounts/rules";
import { covers, coversAny, parseScopes, unknownScopes, withinScopes } from "../../src/features/auth/scopes";

describe("username rules (Mastodon's, for local accounts)", () => {
  test.each([
    ["alice", []],
    ["Alice_99", []],
    ["", ["ERR_BLANK"]],
    ["al ice", ["ERR_INVALID"]],
    ["al.ice", ["ERR_INVALID"]],
    ["ålice", ["ERR_INVALID"]],
    ["a".repeat(30), []],
    ["a".repeat(31), ["ERR_TOO_LONG"]],
    ["admin", ["ERR_RESERVED"]],
    ["Support", ["ERR_RESERVED"]],
  ])("%p → %p", (name, codes) => {
    expect(usernameErrors(name).map((e) => e.error as string)).toEqual(codes);
  });

  test("the operator may take reserved names", () => {
    expect(usernameErrors("admin", { allowReserved: true })).toEqual([]);
  });

  test("email and password", () => {
    expect(emailErrors("a@b.example")).toEqual([]);
    expect(emailErrors("owner@localhost")).toEqual([]);
    for (const bad of ["", "a", "a@", "@b", "a b@c.d", "a@b..c", `${"x".repeat(250)}@b.cd`]) expect(emailErrors(bad)).not.toEqual([]);
    expect(passwordErrors("1234567")[0]?.error).toBe("ERR_TOO_SHORT");
    expect(passwordErrors("12345678")).toEqual([]);
    expect(passwordErrors("x".repeat(1000))[0]?.error).toBe("ERR_TOO_LONG");
  });
});

describe("scopes", () => {
  test("broad scopes cover their granular children, not the other way round", () => {
    expect(covers(["read"], "read:statuses")).toBe(true);
    expect(covers(["read:statuses"], "read")).toBe(false);
    expect(covers(["admin:read"], "admin:read:accounts")).toBe(true);
    expect(covers(["admin:read"], "read:accounts")).toBe(false);
    expect(covers(["write"], "read:statuses")).toBe(false);
  });

  test("legacy follow covers follows, blocks and mutes only", () => {
    expect(covers(["follow"], "write:follows")).toBe(true);
    expect(covers(["follow"], "read:mutes")).toBe(true);
    expect(covers(["follow"], "write:statuses")).toBe(false);
  });

  test("parsing, unknown scopes and scope subsets", () => {
    expect(parseScopes("read  write+follow read")).toEqual(["read", "write", "follow"]);
    expect(unknownScopes(["read", "reed", "write:nothing"])).toEqual(["reed", "write:nothing"]);
    expect(withinScopes(["read:statuses", "write:media"], ["read", "write"])).toBe(true);
    expect(withinScopes(["admin:read"], ["read", "write"])).toBe(false);
    expect(coversAny(["profile"], ["profile", "read:accounts"])).toBe(true);
  });
});
