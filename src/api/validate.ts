/**
 * valibot at the edge. `input()` gives a route both halves of its contract from ONE schema per part:
 * the runtime check (bad input → Mastodon-style 422 / 400 with a readable message, never a validator dump)
 * and the OpenAPI description that /swagger shows.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { ApiError } from "../infra/errors";
import { bodyParams, queryParams, type Params } from "./params";

type Schema = v.GenericSchema<unknown, unknown>;

export interface InputSchemas {
  query?: Schema;
  body?: Schema;
  params?: Schema;
}

export type InputOf<S extends InputSchemas> = {
  query: S["query"] extends Schema ? v.InferOutput<S["query"]> : Params;
  body: S["body"] extends Schema ? v.InferOutput<S["body"]> : Params;
  params: S["params"] extends Schema ? v.InferOutput<S["params"]> : Record<string, string>;
};

/** Strip NUL and lone surrogates, which Postgres refuses, from every string in the input. */
function cleanStrings(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/\u0000/g, "").toWellFormed();
  if (Array.isArray(value)) return value.map(cleanStrings);
  if (value && typeof value === "object" && !(value instanceof Blob)) {
    return Object.fromEntries(Object.entries(value).map(([k, v2]) => [k, cleanStrings(v2)]));
  }
  return value;
}

function check<S extends Schema>(schema: S, value: unknown, where: string): v.InferOutput<S> {
  const result = v.safeParse(schema, cleanStrings(value));
  if (result.success) return result.output;
  const issue = result.issues[0]!;
  const path = v.getDotPath(issue) ?? where;
  const missing = issue.input === undefined && issue.kind === "schema";
  if (missing) throw ApiError.badRequest(`Missing required parameter: ${path}`);
  throw ApiError.unprocessable(`Validation failed: ${path} ${issue.message}`);
}

/** Parse and validate a request's query, body and path params. */
export async function readInput<S extends InputSchemas>(
  schemas: S,
  request: Request,
  pathParams: Record<string, string> = {},
): Promise<InputOf<S>> {
  const url = new URL(request.url);
  const query = schemas.query ? check(schemas.query, queryParams(url), "query") : queryParams(url);
  const body = schemas.body ? check(schemas.body, await bodyParams(request), "body") : {};
  const params = schemas.params ? check(schemas.params, pathParams, "path") : pathParams;
  return { query, body, params } as InputOf<S>;
}

/** OpenAPI `parameters` and `requestBody` from the same schemas, for a route's `detail`. */
export function openApiDetail(schemas: InputSchemas): Record<string, unknown> {
  const detail: Record<string, unknown> = {};
  const parameters: unknown[] = [];
  for (const where of ["query", "params"] as const) {
    const schema = schemas[where];
    if (!schema) continue;
    const json = toJsonSchema(schema, { errorMode: "ignore" }) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      parameters.push({ name, in: where === "params" ? "path" : "query", required: json.required?.includes(name) ?? false, schema: property });
    }
  }
  if (parameters.length) detail.parameters = parameters;
  if (schemas.body) {
    const json = toJsonSchema(schemas.body, { errorMode: "ignore" });
    detail.requestBody = {
      required: true,
      content: {
        "application/json": { schema: json },
        "application/x-www-form-urlencoded": { schema: json },
        "multipart/form-data": { schema: json },
      },
    };
  }
  return detail;
}
