/**
 * One URL, two faces: ActivityStreams JSON for servers, HTML for people. Mastodon treats
 * application/activity+json and application/ld+json (with or without the AS profile) as the JSON face.
 */
import type { Rendered } from "./render-cache";

export const ACTIVITY_JSON = "application/activity+json; charset=utf-8";

export function wantsActivityJson(accept: string | null): boolean {
  if (!accept) return false;
  return accept
    .toLowerCase()
    .split(",")
    .some((part) => {
      const [type, ...params] = part.split(";").map((s) => s.trim());
      // q=0 means "not this one".
      if (params.some((p) => /^q=0(\.0*)?$/.test(p))) return false;
      return type === "application/activity+json" || type === "application/ld+json";
    });
}

/** Public, cacheable for three minutes by CDNs and peers; Vary: Accept because the same URL has two faces. */
export function toResponse(rendered: Rendered, extra: Record<string, string> = {}): Response {
  const headers: Record<string, string> = {
    "content-type": rendered.contentType,
    vary: "Accept",
    ...(rendered.status === 200 && { "cache-control": "public, max-age=180" }),
    ...rendered.headers,
    ...extra,
  };
  return new Response(rendered.body, { status: rendered.status, headers });
}

export function jsonRendered(body: unknown, status = 200): Rendered {
  return { status, contentType: ACTIVITY_JSON, body: JSON.stringify(body) };
}

export const NOT_FOUND_JSON: Rendered = { status: 404, contentType: "application/json; charset=utf-8", body: JSON.stringify({ error: "Record not found" }) };
