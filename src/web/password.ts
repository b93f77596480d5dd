/**
 * Forgotten passwords: GET/POST /auth/password/new mails a reset link (valid 6 hours, once; the answer is the
 * same whether or not the address has an account), GET /auth/password/edit?reset_password_token=… shows the
 * new-password form, and POST (or PUT) /auth/password sets it, ending every session and app token.
 */
import { Elysia } from "elysia";
import { passwordResetTokenIsLive } from "../features/accounts/service";
import { requestPasswordResetInBackground, resetPassword } from "../features/auth/sessions";
import type { AppContext } from "../infra/context";
import { html } from "./html";
import { csrfFailure, csrfField, page, tooManyRequests } from "./layout";
import { CSRF_FIELD, overLimit, PAGE_ROUTE, queryValue, readForm, webHandler, type WebRequest } from "./request";

function requestForm(web: WebRequest, status?: number): Promise<Response> {
  return page(web, {
    title: "Reset your password",
    status,
    body: html`<p>Enter the email address of your account and we will send you a link to choose a new password.</p>
<form method="post" action="/auth/password/new">
${csrfField(web)}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit">Send the link</button>
</form>
<p class="links"><a href="/auth/sign_in">Sign in</a></p>`,
  });
}

function invalidLink(web: WebRequest): Promise<Response> {
  return page(web, {
    title: "This link does not work",
    status: 404,
    body: html`<p class="error" role="alert">The password reset link is invalid, was already used, or has expired (links work for 6 hours).</p>
<p><a href="/auth/password/new">Get a new link</a></p>`,
  });
}

function newPasswordForm(web: WebRequest, token: string, error?: string): Promise<Response> {
  return page(web, {
    title: "Choose a new password",
    status: error ? 422 : 200,
    body: html`${error ? html`<p class="error" role="alert" id="password-error">${error}</p>` : ""}
<form method="post" action="/auth/password">
${csrfField(web)}
<input type="hidden" name="reset_password_token" value="${token}">
<label for="password">New password (at least 8 characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8"${error ? html` aria-describedby="password-error"` : ""}>
<label for="password_confirmation">New password again</label>
<input id="password_confirmation" name="password_confirmation" type="password" autocomplete="new-password" required>
<button type="submit">Change my password</button>
</form>`,
  });
}

async function setNewPassword(context: AppContext, web: WebRequest): Promise<Response> {
  const form = await readForm(web.request);
  if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
  const token = form.get("reset_password_token");
  const password = form.get("password");
  if (password !== form.get("password_confirmation")) {
    return (await passwordResetTokenIsLive(context.sql, token)) ? newPasswordForm(web, token, "The two passwords do not match.") : invalidLink(web);
  }
  const result = await resetPassword(context.sql, token, password);
  if (!result.ok && result.reason === "password") {
    return (await passwordResetTokenIsLive(context.sql, token)) ? newPasswordForm(web, token, result.message) : invalidLink(web);
  }
  if (!result.ok) return invalidLink(web);
  // Every session ended, this browser's too (it may have been signed in as someone else).
  if (web.session) web.clearSession();
  return page(web, {
    title: "Password changed",
    body: html`<p class="notice" role="status">Your password has been changed. You have been signed out everywhere, apps included.</p>
<p><a href="/auth/sign_in">Sign in</a></p>`,
  });
}

export function passwordPages(context: AppContext) {
  return new Elysia({ name: "web-password" })
    .get(
      "/auth/password/new",
      webHandler(context, (web) => requestForm(web)),
      PAGE_ROUTE,
    )
    .post(
      "/auth/password/new",
      webHandler(context, async (web) => {
        const form = await readForm(web.request);
        if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
        const email = form.get("email").trim();
        if (email === "" || email.length > 320) return requestForm(web, 422);
        const limits = new Headers();
        const counts: ["password_reset", string][] = [["password_reset", `ip:${web.meta.clientIp}`], ["password_reset", `email:${email.toLowerCase()}`]];
        if (await overLimit(context, counts, limits)) return tooManyRequests(web, limits);
        requestPasswordResetInBackground(context, email);
        return page(web, {
          title: "Check your email",
          headers: limits,
          body: html`<p class="notice" role="status">If an account uses this address, we have sent it a link to choose a new password. It works for 6 hours.</p>
<p class="links"><a href="/auth/sign_in">Sign in</a></p>`,
        });
      }),
      PAGE_ROUTE,
    )
    .get(
      "/auth/password/edit",
      webHandler(context, async (web) => {
        const token = queryValue(web.url, "reset_password_token");
        return (await passwordResetTokenIsLive(context.sql, token)) ? newPasswordForm(web, token) : invalidLink(web);
      }),
      PAGE_ROUTE,
    )
    // A form can only POST; PUT is what Devise's route says, for clients that follow it.
    .post("/auth/password", webHandler(context, (web) => setNewPassword(context, web)), PAGE_ROUTE)
    .put("/auth/password", webHandler(context, (web) => setNewPassword(context, web)), PAGE_ROUTE);
}
