/**
 * Mastodon clients send parameters as query strings, JSON, urlencoded forms and multipart alike, using Rails'
 * `a[]=` for arrays and `a[b]=` for nesting (`poll[options][]`, `fields_attributes[0][name]`). Everything is
 * turned into one plain shape here, before validation, so a schema sees the same input whatever the client.
 */
import { ApiError } from "../infra/errors";

export type Params = Record<string, unknown>;

const MAX_KEYS = 1000;
const MAX_DEPTH = 8;

/** Build a nested object from flat Rails-style pairs. */
export function nestPairs(pairs: Iterable<[string, unknown]>): Params {
  const root: Params = {};
  let count = 0;
  for (const [key, value] of pairs) {
    if (++count > MAX_KEYS) throw ApiError.badRequest("Too many parameters");
    const path = splitKey(key);
    if (path.length === 0) continue;
    if (path.length > MAX_DEPTH) throw ApiError.badRequest("Parameters nested too deeply");
    assign(root, path, value);
  }
  return root;
}

/** "poll[options][]" → ["poll", "options", ""] */
function splitKey(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return [key];
  const rest = [...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!);
  return [match[1]!, ...rest];
}

function assign(target: Params | unknown[], path: string[], value: unknown): void {
  const [head, ...rest] = path as [string, ...string[]];
  if (head === "__proto__" || head === "constructor" || head === "prototype") return;
  const isArrayTarget = Array.isArray(target);
  if (rest.length === 0) {
    if (isArrayTarget) (target as unknown[]).push(value);
    else (target as Params)[head] = value;
    return;
  }
  const nextIsArray = rest[0] === "";
  if (isArrayTarget) {
    // a[][name]=x&a[][value]=y is ONE element {name, value}, as in Rails: keep filling the last element
    // until a key repeats, then start the next one.
    const list = target as unknown[];
    const last = list[list.length - 1];
    const reusable = !nextIsArray && typeof last === "object" && last !== null && !Array.isArray(last) && !(rest[0]! in (last as Params));
    const child: Params | unknown[] = reusable ? (last as Params) : nextIsArray ? [] : {};
    if (!reusable) list.push(child);
    assign(child, rest, value);
    return;
  }
  const existing = (target as Params)[head];
  let child = existing;
  if (nextIsArray && !Array.isArray(existing)) child = [];
  else if (!nextIsArray && (typeof existing !== "object" || existing === null || Array.isArray(existing))) child = {};
  (target as Params)[head] = child;
  assign(child as Params | unknown[], rest, value);
}

export function queryParams(url: URL): Params {
  return nestPairs(url.searchParams.entries());
}

/** Read and normalise a request body by its Content-Type. Malformed bodies are a 400, never a 500. */
export async function bodyParams(request: Request): Promise<Params> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (request.method === "GET" || request.method === "HEAD") return {};
  try {
    if (type === "application/json" || type.endsWith("+json")) {
      const text = await request.text();
      if (text.trim() === "") return {};
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw ApiError.badRequest("The request body must be a JSON object");
      checkDepth(parsed, 0);
      return parsed as Params;
    }
    if (type === "application/x-www-form-urlencoded") {
      return nestPairs(new URLSearchParams(await request.text()).entries());
    }
    if (type === "multipart/form-data") {
      const form = await request.formData();
      return nestPairs(form.entries());
    }
    const text = await request.text();
    if (text.trim() === "") return {};
    throw ApiError.badRequest(`Unsupported Content-Type "${type || "none"}"`);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw ApiError.badRequest("The request body could not be parsed");
  }
}

function checkDepth(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH + 2) throw ApiError.badRequest("The request body is nested too deeply");
  if (typeof value === "object" && value !== null) for (const child of Object.values(value)) checkDepth(child, depth + 1);
}
