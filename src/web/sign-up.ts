/**
 * GET/POST /auth/sign_up: the HTML face of register() (the same rules as POST /api/v1/accounts). Success is
 * a "check your email" page; the account can sign in once the mailed link is followed (and, in approval
 * mode, once staff approve it).
 */
import { Elysia } from "elysia";
import type { FieldErrors } from "../features/accounts/rules";
import { register, registrationsMode, type RegistrationsMode } from "../features/accounts/registration";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { html } from "./html";
import { csrfFailure, csrfField, page, redirect, tooManyRequests } from "./layout";
import { CSRF_FIELD, overLimit, PAGE_ROUTE, readForm, webHandler, type WebRequest } from "./request";

interface SignUpState {
  values?: { username: string; email: string; reason: string };
  errors?: FieldErrors;
  error?: string;
  status?: number;
}

function fieldError(errors: FieldErrors | undefined, field: string, id: string) {
  const list = errors?.[field];
  if (!list?.length) return "";
  return html`<p class="field-error" id="${id}">${list.map((e) => e.description).join(", ")}</p>`;
}

function describedBy(errors: FieldErrors | undefined, field: string, id: string) {
  return errors?.[field]?.length ? html` aria-invalid="true" aria-describedby="${id}"` : "";
}

function closedPage(web: WebRequest): Promise<Response> {
  return page(web, { title: "Sign up", status: 403, body: html`<p class="notice" role="status">This server is not accepting new accounts.</p>` });
}

function signUpPage(web: WebRequest, mode: RegistrationsMode, state: SignUpState = {}): Promise<Response> {
  const { values, errors } = state;
  return page(web, {
    title: "Sign up",
    status: state.status,
    body: html`
${state.error ? html`<p class="error" role="alert">${state.error}</p>` : ""}
${mode === "approved" ? html`<p class="notice" role="status">Accounts on this server are approved by its staff before they can be used.</p>` : ""}
<form method="post" action="/auth/sign_up">
${csrfField(web)}
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required maxlength="30" pattern="[A-Za-z0-9_]+" value="${values?.username ?? ""}"${describedBy(errors, "username", "username-error")}>
${fieldError(errors, "username", "username-error")}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required value="${values?.email ?? ""}"${describedBy(errors, "email", "email-error")}>
${fieldError(errors, "email", "email-error")}
<label for="password">Password (at least 8 characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8"${describedBy(errors, "password", "password-error")}>
${fieldError(errors, "password", "password-error")}
<label for="password_confirmation">Password again</label>
<input id="password_confirmation" name="password_confirmation" type="password" autocomplete="new-password" required${describedBy(errors, "password_confirmation", "confirmation-error")}>
${fieldError(errors, "password_confirmation", "confirmation-error")}
${
  mode === "approved"
    ? html`<label for="reason">Why do you want to join?</label>
<textarea id="reason" name="reason" rows="3" maxlength="500">${values?.reason ?? ""}</textarea>`
    : ""
}
<label class="check"><input type="checkbox" name="agreement" value="1" required${describedBy(errors, "agreement", "agreement-error")}> I agree to the server rules and terms of service.</label>
${fieldError(errors, "agreement", "agreement-error")}
<button type="submit">Sign up</button>
</form>
<p class="links">Already have an account? <a href="/auth/sign_in">Sign in</a></p>`,
  });
}

export function signUpPages(context: AppContext) {
  return new Elysia({ name: "web-sign-up" })
    .get(
      "/auth/sign_up",
      webHandler(context, async (web) => {
        if (web.session) return redirect(web, "/", 302);
        const mode = await registrationsMode(context);
        return mode === "none" ? closedPage(web) : signUpPage(web, mode);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/auth/sign_up",
      webHandler(context, async (web) => {
        const form = await readForm(web.request);
        if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
        const mode = await registrationsMode(context);
        if (mode === "none") return closedPage(web);
        const limits = new Headers();
        if (await overLimit(context, [["sign_up", `ip:${web.meta.clientIp}`]], limits)) return tooManyRequests(web, limits);

        const values = { username: form.get("username").trim(), email: form.get("email").trim(), reason: form.get("reason").slice(0, 500) };
        const password = form.get("password");
        if (password !== form.get("password_confirmation")) {
          const errors: FieldErrors = { password_confirmation: [{ error: "ERR_INVALID", description: "doesn't match the password" }] };
          return signUpPage(web, mode, { values, errors, status: 422 });
        }
        try {
          const created = await register(context, {
            ...values,
            password,
            agreement: form.get("agreement") !== "",
            locale: "en",
            reason: values.reason || undefined,
            ip: web.meta.clientIp,
          });
          return page(web, {
            title: "Check your email",
            body: html`<p class="notice" role="status">We sent a link to <strong>${created.account.user.email}</strong>. Follow it to confirm your address.</p>
${mode === "approved" ? html`<p>After that, the staff of this server will review your request; you will get an email when your account is approved.</p>` : ""}
<p class="links">No email after a few minutes? Look in your spam folder, or <a href="/auth/confirmation/new">send it again</a>.</p>`,
          });
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          if (error.status === 403) return closedPage(web);
          const errors = (error.extra.details as FieldErrors | undefined) ?? undefined;
          return signUpPage(web, mode, { values, errors, error: errors ? undefined : error.message, status: 422 });
        }
      }),
      PAGE_ROUTE,
    );
}
