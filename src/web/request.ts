/**
 * What every HTML page needs from a request: cookies, the signed-in session, the CSRF token for its forms,
 * the form fields of a POST, a safe `return_to`, and rate limits answered as a page instead of JSON.
 *
 * CSRF: every form carries `authenticity_token`, an HMAC (keyed by SECRET_KEY_BASE) of either the session
 * (once signed in) or a random `_woolly_csrf` cookie (before): a double-submit token that another site can
 * neither read nor forge. A POST whose field does not match gets a 403 page.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { RequestMeta } from "../api/app";
import { bodyParams } from "../api/params";
import { hit, type RateLimitFamily } from "../api/rate-limit";
import { newSecret } from "../features/auth/secrets";
import { findSession, SESSION_COOKIE, SESSION_TTL_SECONDS, type WebSession } from "../features/auth/sessions";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";

export const CSRF_COOKIE = "_woolly_csrf";
export const CSRF_FIELD = "authenticity_token";

export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

function cookieHeader(name: string, value: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (options.secure) parts.push("Secure");
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join("; ");
}

/** Cookie values we set are base64url; anything else is someone else's (or an attacker's) and ignored. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{16,128}$/;

export class WebRequest {
  /** Set-Cookie headers to send with whatever response this request ends in. */
  readonly setCookies: string[] = [];
  session: WebSession | undefined;
  private csrfSeed: string;

  constructor(
    readonly context: AppContext,
    readonly request: Request,
    readonly meta: RequestMeta,
    readonly url: URL,
    readonly cookies: Map<string, string>,
    /** Secure cookies when the site is https, or this request came over https. */
    readonly secure: boolean,
  ) {
    const seed = cookies.get(CSRF_COOKIE);
    if (seed && COOKIE_VALUE.test(seed)) this.csrfSeed = seed;
    else {
      this.csrfSeed = newSecret();
      this.setCookies.push(cookieHeader(CSRF_COOKIE, this.csrfSeed, { secure }));
    }
  }

  get sessionToken(): string | undefined {
    const value = this.cookies.get(SESSION_COOKIE);
    return value && COOKIE_VALUE.test(value) ? value : undefined;
  }

  private hmac(purpose: string): string {
    return createHmac("sha256", this.context.config.secretKeyBase).update(purpose).digest("base64url");
  }

  /** The token this request's forms carry. */
  get csrfToken(): string {
    return this.session ? this.hmac(`csrf:session:${this.session.tokenHash}`) : this.hmac(`csrf:anonymous:${this.csrfSeed}`);
  }

  verifyCsrf(given: string): boolean {
    let expected: string;
    if (this.session) {
      // Signed in, only the session's token counts: a seed cookie could have been planted (from a sibling
      // subdomain) together with a token its planter fetched for it.
      expected = this.hmac(`csrf:session:${this.session.tokenHash}`);
    } else {
      // Only a seed that came in with the request counts: a freshly minted one proves nothing.
      const seed = this.cookies.get(CSRF_COOKIE);
      if (!seed || !COOKIE_VALUE.test(seed)) return false;
      expected = this.hmac(`csrf:anonymous:${seed}`);
    }
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  startSession(token: string): void {
    this.setCookies.push(cookieHeader(SESSION_COOKIE, token, { secure: this.secure, maxAgeSeconds: SESSION_TTL_SECONDS }));
  }

  clearSession(): void {
    this.session = undefined;
    this.setCookies.push(cookieHeader(SESSION_COOKIE, "", { secure: this.secure, maxAgeSeconds: 0 }));
  }
}

/** Read cookies and the session for an HTML request. */
export async function openWebRequest(context: AppContext, request: Request, meta: RequestMeta): Promise<WebRequest> {
  const url = new URL(request.url);
  const secure = context.config.localHttps || meta.protocol === "https";
  const web = new WebRequest(context, request, meta, url, parseCookies(request.headers.get("cookie")), secure);
  const token = web.sessionToken;
  if (token) {
    web.session = await findSession(context.sql, token);
    if (!web.session) web.clearSession();
    else if (web.session.renewed) web.startSession(token);
  } else if (web.cookies.has(SESSION_COOKIE)) {
    web.clearSession();
  }
  return web;
}

/** Form fields as plain strings: anything else (arrays, files, nested keys) reads as "". */
export interface Form {
  get(name: string): string;
}

export async function readForm(request: Request): Promise<Form> {
  let params: Record<string, unknown> = {};
  try {
    params = await bodyParams(request);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  return { get: (name) => (typeof params[name] === "string" ? (params[name] as string).replace(/\u0000/g, "").toWellFormed() : "") };
}

export function queryValue(url: URL, name: string): string {
  return (url.searchParams.get(name) ?? "").replace(/\u0000/g, "").toWellFormed();
}

/**
 * A `return_to` we may redirect to after signing in: a path on this site ("/oauth/authorize?…"), never
 * another origin ("//evil.example", "/\\evil.example", "https://…") and never something with control characters.
 */
export function safeReturnTo(value: string | undefined | null): string | undefined {
  if (!value || value.length > 4000) return undefined;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return undefined;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined;
  const base = "http://same-origin.invalid";
  try {
    const resolved = new URL(value, base);
    if (resolved.origin !== base) return undefined;
    return resolved.pathname + resolved.search;
  } catch {
    return undefined;
  }
}

/**
 * Count this request against rate-limit families, each with its own key. Returns true when over a limit
 * (the caller renders a 429 page); X-RateLimit-* headers go into `headers` either way.
 */
export async function overLimit(context: AppContext, counts: [RateLimitFamily, string][], headers: Headers): Promise<boolean> {
  const results = (await Promise.all(counts.map(([family, who]) => hit(context, family, who)))).filter((r) => r !== undefined);
  if (results.length === 0) return false;
  const exceeded = results.find((r) => r.exceeded);
  const shown = exceeded ?? results.reduce((a, b) => (b.remaining / b.limit < a.remaining / a.limit ? b : a));
  headers.set("x-ratelimit-limit", String(shown.limit));
  headers.set("x-ratelimit-remaining", String(shown.remaining));
  headers.set("x-ratelimit-reset", shown.resetAt.toISOString());
  return exceeded !== undefined;
}

/** An Elysia handler for an HTML page: opens the WebRequest (cookies, session) and hands it to `render`. */
export function webHandler(context: AppContext, render: (web: WebRequest) => Promise<Response>) {
  return async (ctx: { request: Request }) => render(await openWebRequest(context, ctx.request, (ctx as unknown as { meta: RequestMeta }).meta));
}

/** Route options for HTML pages: the body is read by readForm, not by Elysia. */
export const PAGE_ROUTE = { parse: "none" as const, detail: { hide: true } };
