/**
 * GET /auth/confirmation?confirmation_token=… (the link in the sign-up mail; valid 3 days, once), and
 * GET/POST /auth/confirmation/new to have the link sent again. The resend answer is the same whether or not
 * the address has an account, so the page cannot be used to find out who is registered here.
 */
import { Elysia } from "elysia";
import { confirmWithToken, resendConfirmationInBackground } from "../features/auth/sessions";
import type { AppContext } from "../infra/context";
import { html } from "./html";
import { csrfFailure, csrfField, page, tooManyRequests } from "./layout";
import { CSRF_FIELD, overLimit, PAGE_ROUTE, queryValue, readForm, webHandler, type WebRequest } from "./request";

function resendForm(web: WebRequest, status?: number): Promise<Response> {
  return page(web, {
    title: "Resend the confirmation email",
    status,
    body: html`<form method="post" action="/auth/confirmation/new">
${csrfField(web)}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required>
<button type="submit">Send the link again</button>
</form>
<p class="links"><a href="/auth/sign_in">Sign in</a></p>`,
  });
}

export function confirmationPages(context: AppContext) {
  return new Elysia({ name: "web-confirmation" })
    .get(
      "/auth/confirmation",
      webHandler(context, async (web) => {
        const result = await confirmWithToken(context.sql, queryValue(web.url, "confirmation_token"));
        if (!result.ok) {
          return page(web, {
            title: "This link does not work",
            status: 404,
            body: html`<p class="error" role="alert">The confirmation link is invalid, was already used, or has expired (links work for 3 days).</p>
<p><a href="/auth/confirmation/new">Get a new confirmation link</a> · <a href="/auth/sign_in">Sign in</a></p>`,
          });
        }
        return page(web, {
          title: "Email address confirmed",
          body: result.pendingApproval
            ? html`<p class="notice" role="status">Thank you, your email address is confirmed. The staff of this server will now review your account; you will get an email once it is approved.</p>`
            : html`<p class="notice" role="status">Thank you, your email address is confirmed.</p><p><a href="/auth/sign_in">Sign in</a></p>`,
        });
      }),
      PAGE_ROUTE,
    )
    .get(
      "/auth/confirmation/new",
      webHandler(context, (web) => resendForm(web)),
      PAGE_ROUTE,
    )
    .post(
      "/auth/confirmation/new",
      webHandler(context, async (web) => {
        const form = await readForm(web.request);
        if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
        const email = form.get("email").trim();
        if (email === "" || email.length > 320) return resendForm(web, 422);
        const limits = new Headers();
        const counts: [ "confirmation", string ][] = [["confirmation", `ip:${web.meta.clientIp}`], ["confirmation", `email:${email.toLowerCase()}`]];
        if (await overLimit(context, counts, limits)) return tooManyRequests(web, limits);
        resendConfirmationInBackground(context, email);
        return page(web, {
          title: "Check your email",
          headers: limits,
          body: html`<p class="notice" role="status">If an account with this address still needs confirming, we have sent it a new link. It works for 3 days.</p>
<p class="links"><a href="/auth/sign_in">Sign in</a></p>`,
        });
      }),
      PAGE_ROUTE,
    );
}
