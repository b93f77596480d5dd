/**
 * A person's browser for tests: fetch over real HTTP with a cookie jar, no JavaScript, following redirects by
 * hand so a test can stop at the redirect to the app. It signs in and presses Authorize like a person would.
 */
import { expect } from "bun:test";
import { createHash, randomBytes } from "node:crypto";

export function hiddenFields(page: string): Record<string, string> {
  const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1]!] = unescape(match[2]!);
  return fields;
}

/** A person's browser: a cookie jar over real HTTP, following redirects by hand so we can stop at the app's. */
export class Browser {
  private cookies = new Map<string, string>();

  constructor(
    private readonly base: string,
    private readonly credentials: { email: string; password: string },
  ) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(new URL(url, this.base), { ...init, headers, redirect: "manual" });
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(";")[0]!;
      const name = pair.slice(0, pair.indexOf("="));
      if (/Max-Age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(pair.indexOf("=") + 1));
    }
    return response;
  }

  post(url: string, fields: Record<string, string>) {
    return this.request(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) });
  }

  /**
   * Open an authorize URL and do what a person would: sign in when asked, press Authorize on the consent page.
   * Returns the redirect to the app (never followed: it is another site).
   */
  async authorize(authorizeUrl: string): Promise<URL> {
    let response = await this.request(authorizeUrl);
    for (let step = 0; step < 6; step++) {
      if (response.status === 302 || response.status === 303) {
        const location = new URL(response.headers.get("location")!, this.base);
        if (location.origin !== this.base) return location;
        response = await this.request(location.toString());
        continue;
      }
      expect(response.status).toBe(200);
      const page = await response.text();
      if (page.includes('action="/auth/sign_in"')) {
        response = await this.post("/auth/sign_in", { ...hiddenFields(page), email: this.credentials.email, password: this.credentials.password });
      } else if (page.includes('action="/oauth/authorize"')) {
        response = await this.post("/oauth/authorize", { ...hiddenFields(page), decision: "approve" });
      } else {
        throw new Error(`unexpected page: ${page.slice(0, 500)}`);
      }
    }
    throw new Error("too many steps");
  }
}

export function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

