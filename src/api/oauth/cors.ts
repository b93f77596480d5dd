/**
 * CORS for what browser clients (Elk, Phanpy, any web app on another origin) call directly: the REST API,
 * the token, revoke and userinfo endpoints, and the discovery documents. As Mastodon's rack-cors setup: any
 * origin, no credentials (tokens travel in the Authorization header, not in cookies), so `*` is safe.
 * HTML pages (sign-in, authorize) get no CORS: they are navigated to, never fetched.
 */
import { Elysia } from "elysia";

const CORS_PATHS = [/^\/api\//, /^\/oauth\/(token|revoke|userinfo)$/, /^\/\.well-known\//, /^\/nodeinfo\//];
const DEFAULT_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept";
/** A list of header names, nothing else, may be echoed back from Access-Control-Request-Headers. */
const HEADER_LIST = /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/;

export function isCorsPath(path: string): boolean {
  return CORS_PATHS.some((pattern) => pattern.test(path));
}

export function corsRoutes() {
  return new Elysia({ name: "cors" }).onRequest(({ request, set }) => {
    const url = new URL(request.url);
    if (!isCorsPath(url.pathname)) return;
    set.headers["access-control-allow-origin"] = "*";
    set.headers["access-control-expose-headers"] = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id";
    if (request.method !== "OPTIONS") return;
    // A preflight: answer it here, before routing (there are no OPTIONS routes).
    const requested = request.headers.get("access-control-request-headers");
    const allowed = requested && requested.length <= 1000 && HEADER_LIST.test(requested.trim()) ? requested.trim() : DEFAULT_ALLOWED_HEADERS;
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "access-control-allow-headers": allowed,
        "access-control-max-age": "7200",
        vary: "Access-Control-Request-Headers",
      },
    });
  });
}
