/**
 * GET/POST /auth/sign_in and POST /auth/sign_out. Signing in leads back to `return_to` (a path on this site,
 * typically the OAuth authorize URL) or to /. Unknown email and wrong password get the same answer; the
 * reasons a right password may still be refused (disabled, unconfirmed, awaiting approval) are told only
 * to someone who knew the password.
 */
import { Elysia } from "elysia";
import { endSession, signIn } from "../features/auth/sessions";
import type { AppContext } from "../infra/context";
import { html } from "./html";
import { csrfFailure, csrfField, page, redirect, tooManyRequests } from "./layout";
import { CSRF_FIELD, overLimit, PAGE_ROUTE, queryValue, readForm, safeReturnTo, webHandler, type WebRequest } from "./request";

interface SignInFormState {
  email?: string;
  returnTo?: string;
  forceLogin?: boolean;
  error?: string;
  notice?: ReturnType<typeof html>;
  status?: number;
}

function signInPage(web: WebRequest, state: SignInFormState): Promise<Response> {
  const current = web.session?.account;
  return page(web, {
    title: "Sign in",
    status: state.status,
    body: html`
${state.error ? html`<p class="error" role="alert">${state.error}</p>` : ""}
${state.notice ? html`<div class="notice" role="status">${state.notice}</div>` : ""}
${current && state.forceLogin ? html`<p>You are signed in as @${current.username}. The app asked you to sign in again; you may use another account.</p>` : ""}
<form method="post" action="/auth/sign_in">
${csrfField(web)}
${state.returnTo ? html`<input type="hidden" name="return_to" value="${state.returnTo}">` : ""}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${state.email ?? ""}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="links"><a href="/auth/password/new">Forgot your password?</a> · <a href="/auth/confirmation/new">Didn't get the confirmation email?</a> · <a href="/auth/sign_up">Sign up</a></p>`,
  });
}

export function signInPages(context: AppContext) {
  return new Elysia({ name: "web-sign-in" })
    .get(
      "/auth/sign_in",
      webHandler(context, async (web) => {
        const returnTo = safeReturnTo(queryValue(web.url, "return_to"));
        const forceLogin = queryValue(web.url, "force_login") === "true";
        if (web.session && !forceLogin) return redirect(web, returnTo ?? "/", 302);
        return signInPage(web, { returnTo, forceLogin });
      }),
      PAGE_ROUTE,
    )
    .post(
      "/auth/sign_in",
      webHandler(context, async (web) => {
        const form = await readForm(web.request);
        if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
        const email = form.get("email").trim();
        const returnTo = safeReturnTo(form.get("return_to"));
        const limits = new Headers();
        const ip = web.meta.clientIp;
        if (await overLimit(context, [["login_ip", `ip:${ip}`], ["login_email", `email:${email.toLowerCase()}`]], limits)) {
          return tooManyRequests(web, limits);
        }
        const result = await signIn(context.sql, { email, password: form.get("password"), ip, userAgent: web.request.headers.get("user-agent") });
        if (result.ok) {
          // A new session every time (also when switching accounts): an old or planted cookie never carries over.
          await endSession(context.sql, web.sessionToken);
          web.session = undefined;
          web.startSession(result.token);
          return redirect(web, returnTo ?? "/");
        }
        const state = { email, returnTo };
        switch (result.reason) {
          case "invalid":
            return signInPage(web, { ...state, status: 422, error: "Invalid email address or password." });
          case "disabled":
            return signInPage(web, { ...state, status: 403, error: "Your login is currently disabled. Contact the staff of this server." });
          case "unconfirmed":
            return signInPage(web, {
              ...state,
              status: 403,
              notice: html`<p>Confirm your email address before signing in: follow the link in the email we sent you.</p>
<p><a href="/auth/confirmation/new">Send the confirmation email again</a></p>`,
            });
          case "pending":
            return signInPage(web, {
              ...state,
              status: 403,
              notice: html`<p>Your account is waiting for approval by the staff of this server. You will get an email once it is approved.</p>`,
            });
        }
      }),
      PAGE_ROUTE,
    )
    .post(
      "/auth/sign_out",
      webHandler(context, async (web) => {
        const form = await readForm(web.request);
        if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
        await endSession(context.sql, web.sessionToken);
        web.clearSession();
        return redirect(web, "/auth/sign_in");
      }),
      PAGE_ROUTE,
    );
}
