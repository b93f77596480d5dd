/**
 * GET /system/<key>: media files in local-storage mode (with S3 the bucket or its CDN serves them).
 * Keys are decoded once and checked (safe segments only, a public prefix, never tmp/ uploads) before they
 * reach the filesystem. Files are immutable, so: a year of caching, ETag / Last-Modified, 304s, and single
 * byte ranges (206, or 416 when unsatisfiable) for audio/video seeking.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { IMMUTABLE_CACHE_CONTROL, isValidKey, PUBLIC_PREFIXES, storageFor, type ByteRange, type Storage } from "../infra/storage/index";

const PREFIX = "/system/";

function notFound(): Response {
  return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function keyOf(request: Request): string | undefined {
  const path = new URL(request.url).pathname;
  if (!path.startsWith(PREFIX)) return undefined;
  let key: string;
  try {
    key = decodeURIComponent(path.slice(PREFIX.length));
  } catch {
    return undefined;
  }
  if (!isValidKey(key) || !PUBLIC_PREFIXES.some((p) => key.startsWith(p))) return undefined;
  return key;
}

/** One "bytes=a-b" / "bytes=a-" / "bytes=-n" range; null = unsatisfiable; undefined = ignore the header. */
export function parseRange(header: string | null, size: number): ByteRange | null | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined; // malformed or multiple ranges: send it all
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return null;
  return { start, end };
}

/**
 * Answer a request with a stored file from local storage: conditional requests, ranges, HEAD. Also used by
 * the remote media proxy (media-proxy.ts), which passes its own, shorter, cache lifetime.
 */
export async function serveStoredFile(storage: Storage, key: string, request: Request, cacheControl = IMMUTABLE_CACHE_CONTROL): Promise<Response> {
  const info = await storage.head(key);
  if (!info) return notFound();
  const headers: Record<string, string> = {
    "content-type": info.contentType,
    "cache-control": cacheControl,
    etag: info.etag,
    "last-modified": info.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    // User uploads must never run as a page of ours, whatever a browser guesses.
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
  if (request.headers.get("if-none-match") === info.etag) return new Response(null, { status: 304, headers });
  const ifRange = request.headers.get("if-range");
  const range = ifRange && ifRange !== info.etag ? undefined : parseRange(request.headers.get("range"), info.size);
  if (range === null) return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${info.size}` } });
  const head = request.method === "HEAD";
  if (range) {
    const length = range.end - range.start + 1;
    const body = head ? null : await storage.get(key, range);
    return new Response(body, { status: 206, headers: { ...headers, "content-range": `bytes ${range.start}-${range.end}/${info.size}`, "content-length": String(length) } });
  }
  const body = head ? null : await storage.get(key);
  return new Response(body, { status: 200, headers: { ...headers, "content-length": String(info.size) } });
}

export function mediaFileRoutes(context: AppContext) {
  const serve = async ({ request }: { request: Request }) => {
    const storage = storageFor(context.config);
    if (storage.kind !== "local") return notFound();
    const key = keyOf(request);
    if (!key) return notFound();
    return serveStoredFile(storage, key, request);
  };
  return new Elysia({ name: "media-files" }).get("/system/*", serve).head("/system/*", serve);
}
