/**
 * Who may see /admin: signed-in Admins and Owners everywhere, Moderators only on the moderation pages
 * (reports, accounts). Anyone else signed in gets a 403 page; someone not signed in is sent to sign in and back.
 * Every POST here must carry the session's CSRF token (403 otherwise), checked before anything is read or written.
 */
import type { AppContext } from "../../infra/context";
import { html, SafeHtml } from "../html";
import { csrfFailure, page, redirect } from "../layout";
import { CSRF_FIELD, readForm, webHandler, type Form, type WebRequest } from "../request";

export type AdminLevel = "admin" | "moderator";

/** Wider pages with tables that scroll sideways on a phone; the layout's style stays as it is. */
const ADMIN_STYLE = new SafeHtml(`<style>
main,header{max-width:64rem}
nav.admin{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin-bottom:1rem}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
td form{display:inline}td button{margin:0;padding:.3rem .6rem}
dl.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.75rem}
dl.stats div{background:#f4f4f8;padding:.75rem;border-radius:.3rem}dl.stats dd{margin:0;font-size:1.4rem;font-weight:600}
select{font:inherit;padding:.5rem}
</style>`);

function allowed(web: WebRequest, level: AdminLevel): boolean {
  const role = web.session?.account.user.role;
  if (role === "Admin" || role === "Owner") return true;
  return level === "moderator" && role === "Moderator";
}

export function adminPage(web: WebRequest, title: string, body: SafeHtml, status?: number): Promise<Response> {
  const admin = allowed(web, "admin");
  const nav = html`<nav class="admin">${admin ? html`<a href="/admin">Dashboard</a><a href="/admin/queues">Queues</a><a href="/admin/domain_blocks">Domain blocks</a><a href="/admin/relays">Relays</a><a href="/admin/settings">Settings</a><a href="/admin/announcements">Announcements</a><a href="/admin/custom_emojis">Custom emojis</a>` : ""}<a href="/admin/reports">Reports</a><a href="/admin/accounts">Accounts</a></nav>`;
  return page(web, { title, status, body: html`${ADMIN_STYLE}${nav}${body}` });
}

export function adminError(web: WebRequest, status: number, message: string): Promise<Response> {
  return adminPage(web, status === 403 ? "Forbidden" : "Something is wrong", html`<p class="error" role="alert">${message}</p>`, status);
}

async function refuse(web: WebRequest, level: AdminLevel): Promise<Response | undefined> {
  if (!web.session) return redirect(web, `/auth/sign_in?return_to=${encodeURIComponent(web.url.pathname)}`, 302);
  if (!allowed(web, level)) {
    return page(web, { status: 403, title: "Forbidden", body: html`<p class="error" role="alert">This page is for the staff of this server.</p>` });
  }
  return undefined;
}

/** A GET page for staff of at least `level`. */
export function adminGet(context: AppContext, level: AdminLevel, render: (web: WebRequest) => Promise<Response>) {
  return webHandler(context, async (web) => (await refuse(web, level)) ?? render(web));
}

/** A POST for staff of at least `level`, its form already CSRF-checked. */
export function adminPost(context: AppContext, level: AdminLevel, handle: (web: WebRequest, form: Form, params: Record<string, string>) => Promise<Response>) {
  return async (ctx: { request: Request; params?: Record<string, string> }) =>
    webHandler(context, async (web) => {
      const refused = await refuse(web, level);
      if (refused) return refused;
      const form = await readForm(web.request);
      if (!web.verifyCsrf(form.get(CSRF_FIELD))) return csrfFailure(web);
      return handle(web, form, ctx.params ?? {});
    })(ctx);
}
