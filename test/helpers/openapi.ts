/**
 * Checks our JSON against Mastodon's OpenAPI schema (abraham/mastodon-openapi, in ../shared). No JSON-schema
 * library is installed, so this is a small validator for the subset that schema uses: type (one or a list,
 * "null" included, and OpenAPI 3.0's `nullable`), properties, required, items, additionalProperties, enum,
 * $ref into components.schemas, allOf / anyOf / oneOf. `format` and descriptions are ignored.
 *
 *   expectMatchesSchema(await response.json(), "Account");
 *   expectMatchesSchema(list, { type: "array", items: { $ref: "#/components/schemas/Rule" } });
 */
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export type JsonSchema = {
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  enum?: unknown[];
  $ref?: string;
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

export const SCHEMA_PATH = process.env.MASTODON_OPENAPI_SCHEMA ?? resolve(import.meta.dir, "../../../shared/mastodon-openapi/schema.json");

let components: Record<string, JsonSchema> | undefined;
function schemas(): Record<string, JsonSchema> {
  components ??= (JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as { components: { schemas: Record<string, JsonSchema> } }).components.schemas;
  return components;
}

function resolveRef(ref: string): JsonSchema {
  const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
  const target = name ? schemas()[name] : undefined;
  if (!target) throw new Error(`unresolvable $ref ${ref}`);
  return target;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Every way `value` fails `schema`, as "path: problem" lines; empty when it matches. */
export function schemaErrors(value: unknown, schema: JsonSchema | string, path = "$"): string[] {
  const s = typeof schema === "string" ? resolveRef(`#/components/schemas/${schema}`) : schema;
  const errors: string[] = [];
  if (s.$ref) errors.push(...schemaErrors(value, resolveRef(s.$ref), path));

  if (s.type !== undefined) {
    const allowed = [...(Array.isArray(s.type) ? s.type : [s.type]), ...(s.nullable ? ["null"] : [])];
    const actual = typeOf(value);
    const ok = allowed.includes(actual) || (actual === "integer" && allowed.includes("number"));
    if (!ok) return [...errors, `${path}: expected ${allowed.join(" | ")}, got ${actual} ${JSON.stringify(value)?.slice(0, 80)}`];
  }
  if (s.enum && !s.enum.includes(value) && !(value === null && (s.nullable || (Array.isArray(s.type) && s.type.includes("null"))))) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  }

  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in object)) errors.push(`${path}.${key}: required but missing`);
    for (const [key, child] of Object.entries(object)) {
      const property = s.properties?.[key];
      if (property) errors.push(...schemaErrors(child, property, `${path}.${key}`));
      else if (s.additionalProperties === false) errors.push(`${path}.${key}: not allowed`);
      else if (typeof s.additionalProperties === "object") errors.push(...schemaErrors(child, s.additionalProperties, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((item, i) => errors.push(...schemaErrors(item, s.items!, `${path}[${i}]`)));

  for (const part of s.allOf ?? []) errors.push(...schemaErrors(value, part, path));
  if (s.anyOf && !s.anyOf.some((part) => schemaErrors(value, part, path).length === 0)) errors.push(`${path}: matches none of anyOf`);
  if (s.oneOf) {
    const results = s.oneOf.map((part) => schemaErrors(value, part, path));
    const matching = results.filter((r) => r.length === 0).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} of oneOf (need exactly 1)${matching === 0 ? `: ${results.flat().slice(0, 5).join("; ")}` : ""}`);
  }
  return errors;
}

/** Fail the test with every mismatch listed (so one run shows them all). */
export function expectMatchesSchema(value: unknown, schema: JsonSchema | string): void {
  expect(schemaErrors(value, schema)).toEqual([]);
}

/** A list of one component, e.g. arrayOf("Account"). */
export function arrayOf(name: string): JsonSchema {
  return { type: "array", items: { $ref: `#/components/schemas/${name}` } };
}
