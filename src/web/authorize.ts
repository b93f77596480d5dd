/**
 * GET /oauth/authorize, the page an app sends a person to, and POST /oauth/authorize, their answer.
 *
 *   bad client_id or unregistered redirect_uri → an error page here (we never redirect to an unknown URI)
 *   other bad parameters                        → back to the app: redirect_uri?error=…&state=…
 *   not signed in, or force_login=true          → the sign-in page, then back here
 *   already authorized with the same scopes     → straight back with a code (Mastodon skips consent too)
 *   otherwise                                   → the consent page: Authorize / Deny (a POST form with CSRF)
 *
 * A code goes to redirect_uri?code=…&state=…, or for urn:ietf:wg:oauth:2.0:oob is shown on a page to copy.
 */
import { Elysia } from "elysia";
import {
  alreadyAuthorized,
  checkAuthorizationRequest,
  issueAuthorizationCode,
  OOB_REDIRECT_URI,
  redirectWithParams,
  type AuthorizationCheck,
  type AuthorizationRequest,
} from "../features/auth/oauth";
import type { AppContext } from "../infra/context";
import { html, type SafeHtml } from "./html";
import { csrfFailure, csrfField, page, redirect } from "./layout";
import { CSRF_FIELD, PAGE_ROUTE, readForm, webHandler, type WebRequest } from "./request";

/** What each scope lets an app do, in words for the consent page. */
const SCOPE_WORDS: Record<string, string> = {
  read: "Read all your account's data: posts, follows, notifications, lists and more",
  write: "Change all your account's data: publish and delete posts, follow, favourite, edit your profile",
  follow: "Change your follows, blocks and mutes",
  push: "Receive your notifications as push messages",
  profile: "Read your basic profile information only",
  "admin:read": "Read all data on this server (staff only)",
  "admin:write": "Moderate and change data on this server (staff only)",
};
const GRANULAR_WORDS: Record<string, string> = {
  accounts: "account and profile",
  blocks: "blocks",
  bookmarks: "bookmarks",
  conversations: "conversations",
  favourites: "favourites",
  filters: "filters",
  follows: "follows",
  lists: "lists",
  media: "uploaded media",
  mutes: "mutes",
  notifications: "notifications",
  reports: "reports",
  search: "searches",
  statuses: "posts",
};

export function describeScope(scope: string): string {
  const direct = SCOPE_WORDS[scope];
  if (direct) return direct;
  const match = /^(admin:)?(read|write):(.+)$/.exec(scope);
  if (!match) return scope;
  const what = GRANULAR_WORDS[match[3]!] ?? match[3]!.replace(/_/g, " ");
  const verb = match[2] === "read" ? "Read" : "Change";
  return match[1] ? `${verb} ${what} on this server (staff only)` : `${verb} your ${what}`;
}

/** The parameters that make up an authorization request, carried through sign-in and the consent form. */
const REQUEST_PARAMS = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"] as const;

function authorizeUrl(params: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const name of REQUEST_PARAMS) if (typeof params[name] === "string") query.set(name, params[name] as string);
  return `/oauth/authorize?${query}`;
}

function errorPage(web: WebRequest, message: string, status = 400): Promise<Response> {
  return page(web, {
    title: "Authorization failed",
    status,
    body: html`<p class="error" role="alert">${message}</p><p>Go back to the app you came from and try again. If this keeps happening, the app may be misconfigured.</p>`,
  });
}

/** The app's answer: a redirect to it, or for out-of-band apps a page with the code (or the error). */
function answer(web: WebRequest, request: { redirectUri: string; state?: string }, params: Record<string, string | undefined>): Promise<Response> | Response {
  if (request.redirectUri === OOB_REDIRECT_URI) {
    if (params.error) return errorPage(web, params.error === "access_denied" ? "You denied the authorization request." : `The request was refused: ${params.error_description ?? params.error}.`);
    return page(web, {
      title: "Authorization code",
      body: html`<p>Copy this code and paste it into the application:</p>
<p class="code" aria-label="Authorization code">${params.code}</p>`,
    });
  }
  return redirect(web, redirectWithParams(request.redirectUri, { ...params, state: request.state }), 302);
}

function failed(web: WebRequest, check: Exclude<AuthorizationCheck, { ok: true }>): Promise<Response> | Response {
  if (!check.redirect) return errorPage(web, check.message);
  return answer(web, check, { error: check.error, error_description: check.description });
}

async function grant(context: AppContext, web: WebRequest, request: AuthorizationRequest): Promise<Response> {
  const code = await issueAuthorizationCode(context.sql, web.session!.account.user.id, request);
  return answer(web, request, { code });
}

function hidden(name: string, value: string | null | undefined): SafeHtml | "" {
  return value ? html`<input type="hidden" name="${name}" value="${value}">` : "";
}

function consentPage(web: WebRequest, request: AuthorizationRequest): Promise<Response> {
  const { application } = request;
  const account = web.session!.account;
  const website = application.website && /^https?:\/\//i.test(application.website) ? application.website : undefined;
  const destination = request.redirectUri === OOB_REDIRECT_URI ? "shown on the next page" : request.redirectUri;
  return page(web, {
    title: "Authorize an application",
    body: html`<p><strong>${application.name}</strong>${website ? html` (<a href="${website}" rel="noopener noreferrer nofollow">${website}</a>)` : ""} would like to use your account <strong>@${account.username}</strong>. It asks to:</p>
<ul class="scopes">${request.scopes.map((scope) => html`<li>${describeScope(scope)} <small>(${scope})</small></li>`)}</ul>
<p><small>If you authorize it, you will be sent back to: ${destination}</small></p>
<form method="post" action="/oauth/authorize">
${csrfField(web)}
${hidden("response_type", "code")}
${hidden("client_id", application.client_id)}
${hidden("redirect_uri", request.redirectUri)}
${hidden("scope", request.scopes.join(" "))}
${hidden("state", request.state)}
${hidden("code_challenge", request.codeChallenge)}
${hidden("code_challenge_method", request.codeChallengeMethod)}
<div class="actions">
<button type="submit" name="decision" value="approve">Authorize</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  });
}

function toSignIn(web: WebRequest, params: Record<string, unknown>, forceLogin: boolean): Response {
  const query = new URLSearchParams({ return_to: authorizeUrl(params) });
  if (forceLogin) query.set("force_login", "true");
  return redirect(web, `/auth/sign_in?${query}`, 302);
}

export function authorizePages(context: AppContext) {
  return new Elysia({ name: "web-authorize" })
    .get(
      "/oauth/authorize",
      webHandler(context, async (web) => {
        const params = Object.fromEntries(web.url.searchParams);
        const check = await checkAuthorizationRequest(context.sql, params);
        if (!check.ok) return failed(web, check);
        // force_login: sign in again (perhaps as someone else); the way back leaves the flag out, so no loop.
        const forceLogin = params.force_login === "true";
        if (!web.session || forceLogin) return toSignIn(web, params, forceLogin);
        if (await alreadyAuthorized(context.sql, web.session.account.user.id, check.request)) return grant(context, web, check.request);
        return consentPage(web, check.request);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/oauth/authorize",
      webHandler(context, async (web) => {
        const form = await readForm(web.request);
        if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
        const params = Object.fromEntries(REQUEST_PARAMS.map((name) => [name, form.get(name)]));
        const check = await checkAuthorizationRequest(context.sql, params);
        if (!check.ok) return failed(web, check);
        if (!web.session) return toSignIn(web, params, false);
        if (form.get("decision") !== "approve") {
          return answer(web, check.request, { error: "access_denied", error_description: "The resource owner or authorization server denied the request." });
        }
        return grant(context, web, check.request);
      }),
      PAGE_ROUTE,
    );
}
