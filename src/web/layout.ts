/**
 * The one layout every server-rendered page uses: a small accessible document (lang, one h1, labelled fields,
 * no JavaScript), a little inline CSS, and headers that keep the pages out of frames and caches. When someone
 * is signed in, the header says who and offers a sign-out button.
 */
import { getSetting } from "../features/settings/service";
import { html, SafeHtml } from "./html";
import { CSRF_FIELD, type WebRequest } from "./request";

const STYLE = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f4f8;color:#1c1c28}
header,main{max-width:32rem;margin:0 auto;padding:1rem}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem}
header a{color:inherit;font-weight:600;text-decoration:none}
main{background:#fff;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:1.5rem;margin-bottom:2rem}
h1{font-size:1.5rem;margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=password],input[type=text],textarea{width:100%;padding:.6rem;border:1px solid #8a8aa0;border-radius:.3rem;font:inherit}
input:focus,button:focus,textarea:focus,a:focus{outline:3px solid #5b5bd6;outline-offset:2px}
.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:.3rem;border:1px solid #3d3db8;background:#3d3db8;color:#fff;cursor:pointer;margin-top:1rem}
button.secondary{background:#fff;color:#3d3db8}
button.link{background:none;border:none;color:inherit;padding:0;margin:0;text-decoration:underline;font-weight:400}
.actions{display:flex;gap:.75rem;flex-wrap:wrap}
.error{background:#fde8e8;border:1px solid #c81e1e;color:#771d1d;padding:.75rem;border-radius:.3rem}
.notice{background:#e8f0fd;border:1px solid #1e4fc8;color:#1d3577;padding:.75rem;border-radius:.3rem}
.field-error{color:#a31515;margin:.25rem 0 0}
.code{font:1.25rem/1.4 ui-monospace,monospace;word-break:break-all;background:#f4f4f8;padding:.75rem;border-radius:.3rem;user-select:all}
.links{margin-top:1.5rem;font-size:.95rem}
ul.scopes{padding-left:1.25rem}
`;

/** Our own constant CSS: the one piece of markup that is not built with html``. */
const TRUSTED_STYLE = new SafeHtml(STYLE);

export interface PageOptions {
  title: string;
  body: SafeHtml;
  status?: number;
  headers?: Headers;
}

/** A hidden CSRF field for forms on this request's page. */
export function csrfField(web: WebRequest): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${web.csrfToken}">`;
}

function withCookies(web: WebRequest, headers: Headers): Headers {
  for (const cookie of web.setCookies) headers.append("set-cookie", cookie);
  return headers;
}

export async function page(web: WebRequest, options: PageOptions): Promise<Response> {
  const siteTitle = await getSetting(web.context.sql, "site_title");
  const account = web.session?.account;
  const signedIn = account
    ? html`<form method="post" action="/auth/sign_out">${csrfField(web)}<span>@${account.username}</span> · <button type="submit" class="link">Sign out</button></form>`
    : "";
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${options.title} · ${siteTitle}</title>
<style>${TRUSTED_STYLE}</style>
</head>
<body>
<header><a href="/">${siteTitle}</a>${signedIn}</header>
<main>
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>
`;
  const headers = withCookies(web, options.headers ?? new Headers());
  headers.set("content-type", "text/html; charset=utf-8");
  // Pages with forms, codes and CSRF tokens: never cached, never framed (clickjacking the consent button).
  headers.set("cache-control", "no-store");
  headers.set("x-frame-options", "DENY");
  headers.set("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'");
  headers.set("referrer-policy", "same-origin");
  headers.set("x-content-type-options", "nosniff");
  return new Response(document.value, { status: options.status ?? 200, headers });
}

/** 303 after a POST (the browser then GETs), or any other redirect, carrying this request's cookies. */
export function redirect(web: WebRequest, location: string, status: 302 | 303 = 303): Response {
  const headers = withCookies(web, new Headers({ location, "cache-control": "no-store" }));
  return new Response(null, { status, headers });
}

export function csrfFailure(web: WebRequest): Promise<Response> {
  return page(web, {
    status: 403,
    title: "This form has expired",
    body: html`<p class="error" role="alert">The form could not be verified. Go back, reload the page and try again.</p>`,
  });
}

export function tooManyRequests(web: WebRequest, headers: Headers): Promise<Response> {
  return page(web, {
    status: 429,
    headers,
    title: "Too many attempts",
    body: html`<p class="error" role="alert">Too many attempts. Wait a few minutes, then try again.</p>`,
  });
}
