/**
 * /admin/accounts: search local and remote accounts by username/domain, and suspend, silence or lift them —
 * through the admin service, which also refuses acting on oneself or on staff of equal or higher rank.
 * Moderators may use it.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { pageParams, pageWhere } from "../../api/pagination";
import * as admin from "../../features/admin/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { html } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE, queryValue } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";

const PAGE_SIZE = 50;
const accountId = v.pipe(v.string(), v.regex(/^\d{1,19}$/));
const ACTIONS = { suspend: "Suspend", silence: "Limit", unsuspend: "Unsuspend", unsilence: "Lift limit" } as const;
const action = v.picklist(Object.keys(ACTIONS) as (keyof typeof ACTIONS)[]);
const search = v.object({
  q: v.pipe(v.string(), v.trim(), v.maxLength(100, "Search is too long")),
  origin: v.picklist(["all", "local", "remote"]),
});

export function accountPages(context: AppContext) {
  return new Elysia({ name: "web-admin-accounts" })
    .get(
      "/admin/accounts",
      adminGet(context, "moderator", async (web) => {
        const parsed = v.safeParse(search, { q: queryValue(web.url, "q"), origin: queryValue(web.url, "origin") || "all" });
        if (!parsed.success) return adminError(web, 422, parsed.issues[0].message);
        const { q, origin } = parsed.output;
        // "name@domain" searches both; a bare word is a username prefix (as Mastodon's admin search).
        const [username, domain] = q.replace(/^@/, "").split("@", 2);
        const filter: admin.AccountFilter = { local: origin === "local", remote: origin === "remote", username: username || undefined, byDomain: domain || undefined };
        const views = await admin.listAccounts(context.sql, filter, pageWhere(context.sql, context.sql`x.id`, pageParams({}, PAGE_SIZE)));
        const button = (id: string, name: keyof typeof ACTIONS) =>
          html`<form method="post" action="/admin/accounts/${id}/${name}">${csrfField(web)}<button type="submit" class="${name.startsWith("un") ? "secondary" : ""}">${ACTIONS[name]}</button></form>`;
        const rows = views.map(({ account }) => {
          const status = [account.suspended_at ? "suspended" : "", account.silenced_at ? "limited" : "", account.user?.disabled ? "disabled" : ""].filter(Boolean).join(", ");
          return html`<tr><th scope="row">@${account.username}${account.domain ? `@${account.domain}` : ""}</th><td>${account.user?.role ?? "remote"}</td><td>${status || "active"}</td>
<td>${account.suspended_at ? button(account.id, "unsuspend") : button(account.id, "suspend")} ${account.silenced_at ? button(account.id, "unsilence") : button(account.id, "silence")}</td></tr>`;
        });
        return adminPage(
          web,
          "Accounts",
          html`<form method="get" action="/admin/accounts"><label for="q">Username (or user@domain)</label><input id="q" name="q" type="text" value="${q}">
<label for="origin">Where</label><select id="origin" name="origin">${(["all", "local", "remote"] as const).map((o) => html`<option value="${o}"${o === origin ? html` selected` : ""}>${o}</option>`)}</select>
<button type="submit">Search</button></form>
<div class="table"><table><thead><tr><th>Account</th><th>Role</th><th>Status</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">No accounts found.</td></tr>`}</tbody></table></div>`,
        );
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/accounts/:id/:action",
      adminPost(context, "moderator", async (web, _form, params) => {
        const id = v.safeParse(accountId, params.id);
        const what = v.safeParse(action, params.action);
        if (!id.success || !what.success) return adminError(web, 404, "No such account or action.");
        const actor = web.session!.account;
        try {
          if (what.output === "suspend" || what.output === "silence") await admin.performAction(context.sql, actor, id.output, { type: what.output, text: "" });
          else await admin.undo(context.sql, actor, id.output, what.output);
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          if (error.status === 404) return adminError(web, 404, "No such account.");
          return adminError(web, error.status === 403 ? 403 : 422, error.status === 403 ? "You may not do this to that account." : error.message);
        }
        return redirect(web, "/admin/accounts");
      }),
      PAGE_ROUTE,
    );
}
