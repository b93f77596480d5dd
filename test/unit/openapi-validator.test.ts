/** The small JSON-schema validator the API tests use to hold our JSON to Mastodon's OpenAPI schema. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { arrayOf, SCHEMA_PATH, schemaErrors } from "../helpers/openapi";

const tokenExample = { access_token: "abc", token_type: "Bearer", scope: "read write", created_at: 1573979017 };

describe("schemaErrors", () => {
  test("accepts a value that matches and the schema's own examples", () => {
    expect(schemaErrors(tokenExample, "Token")).toEqual([]);
    const components = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")).components.schemas;
    for (const name of ["Rule", "CustomEmoji", "Role", "Token"]) expect(schemaErrors(components[name].example, name)).toEqual([]);
  });

  test("rejects a wrong type, naming the path", () => {
    expect(schemaErrors({ ...tokenExample, created_at: "1573979017" }, "Token")).toEqual([
      '$.created_at: expected number, got string "1573979017"',
    ]);
    expect(schemaErrors({ id: 1, text: "x", hint: "" }, "Rule")[0]).toStartWith("$.id: expected string, got integer");
  });

  test("rejects missing required keys", () => {
    const { scope: _scope, ...rest } = tokenExample;
    expect(schemaErrors(rest, "Token")).toEqual(["$.scope: required but missing"]);
  });

  test("integer is not number's superset the other way: 1.5 is not an integer", () => {
    expect(schemaErrors(1.5, { type: "integer" })).toHaveLength(1);
    expect(schemaErrors(2, { type: "number" })).toEqual([]);
  });

  test("type lists, nullable, enum, items and $ref", () => {
    expect(schemaErrors(null, { type: ["string", "null"] })).toEqual([]);
    expect(schemaErrors(null, { type: "string", nullable: true })).toEqual([]);
    expect(schemaErrors(null, { type: "string" })).toHaveLength(1);
    expect(schemaErrors("secret", { $ref: "#/components/schemas/StatusVisibilityEnum" })).toEqual(['$: "secret" is not one of ["public","unlisted","private","direct"]']);
    expect(schemaErrors([{ shortcode: "x" }], arrayOf("CustomEmoji")).length).toBeGreaterThan(0);
    expect(() => schemaErrors({}, "NoSuchSchema")).toThrow("unresolvable");
  });

  test("oneOf needs exactly one match (Account or null)", () => {
    const schema = { oneOf: [{ $ref: "#/components/schemas/Rule" }, { type: "null" }] };
    expect(schemaErrors(null, schema)).toEqual([]);
    expect(schemaErrors({ id: "1", text: "t", hint: "" }, schema)).toEqual([]);
    expect(schemaErrors({ id: "1" }, schema)[0]).toContain("matches 0 of oneOf");
  });

  test("additionalProperties as a schema and as false", () => {
    expect(schemaErrors({ a: 1, b: "x" }, { type: "object", additionalProperties: { type: "integer" } })).toHaveLength(1);
    expect(schemaErrors({ a: 1 }, { type: "object", properties: {}, additionalProperties: false })).toEqual(["$.a: not allowed"]);
  });
});
