/**
 * /admin/accounts: search local and remote accounts by username/domain, and suspend, silence or lift them —
 * through the admin service, which also refuses acting on oneself or on staff of equal or higher rank.
 * /admin/accounts/:id: one account with its strikes, its moderation notes (add, delete) and the action form
 * (warn, freeze, limit, suspend, mark sensitive) with the strike's text. Moderators may use it.
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
import { actionForm, handle, moderationFailure, notesSection, readAction, rowId, strikesSection, when } from "./moderation";

const PAGE_SIZE = 50;
const accountId = v.pipe(v.string(), v.regex(/^\d{1,19}$/));
const ACTIONS = { suspend: "Suspend", silence: "Limit", unsuspend: "Unsuspend", unsilence: "Lift limit" } as const;
const action = v.picklist(Object.keys(ACTIONS) as (keyof typeof ACTIONS)[]);
/** What an admin does from an account's own page (its strike is recorded; a report is acted on from its page). */
const PAGE_ACTIONS = ["none", "disable", "silence", "suspend", "sensitive"] as const;
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
          return html`<tr><th scope="row"><a href="/admin/accounts/${account.id}">${handle(account)}</a></th><td>${account.user?.role ?? "remote"}</td><td>${status || "active"}</td>
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
    .get(
      "/admin/accounts/:id",
      adminGet(context, "moderator", async (web) => {
        const id = v.safeParse(rowId, web.url.pathname.split("/")[3]);
        if (!id.success) return adminError(web, 404, "No such account.");
        let view: admin.AdminAccountView;
        try {
          view = await admin.findAccount(context.sql, id.output);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return adminError(web, 404, "No such account.");
          throw error;
        }
        const { account } = view;
        const [strikes, notes] = await Promise.all([admin.strikesFor(context.sql, account.id), admin.notesFor(context.sql, { kind: "account", id: account.id })]);
        const state = [
          account.suspended_at ? "suspended" : "",
          account.silenced_at ? "limited" : "",
          view.details.sensitized_at ? "marked sensitive" : "",
          account.user?.disabled ? "frozen" : "",
          account.user && !account.user.approved ? "pending approval" : "",
        ].filter(Boolean);
        return adminPage(
          web,
          handle(account),
          html`<dl class="stats"><div><dt>Role</dt><dd>${account.user?.role ?? "remote"}</dd></div><div><dt>Status</dt><dd>${state.join(", ") || "active"}</dd></div>
<div><dt>Joined</dt><dd>${when(account.created_at)}</dd></div><div><dt>Posts</dt><dd>${account.statuses_count}</dd></div></dl>
${actionForm(web, `/admin/accounts/${account.id}/moderate`, PAGE_ACTIONS)}
${strikesSection(strikes)}
${notesSection(web, notes, `/admin/accounts/${account.id}`, admin.NOTE_LIMITS.account)}`,
        );
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/accounts/:id/moderate",
      adminPost(context, "moderator", async (web, form, params) => {
        const id = v.safeParse(rowId, params.id);
        if (!id.success) return adminError(web, 404, "No such account.");
        const action = readAction(form, PAGE_ACTIONS);
        if (typeof action === "string") return adminError(web, 422, action);
        const failed = await moderationFailure(web, () => admin.performAction(context.sql, web.session!.account, id.output, action));
        return failed ?? redirect(web, `/admin/accounts/${id.output}`);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/accounts/:id/notes",
      adminPost(context, "moderator", async (web, form, params) => {
        const id = v.safeParse(rowId, params.id);
        if (!id.success) return adminError(web, 404, "No such account.");
        const failed = await moderationFailure(web, () => admin.addNote(context.sql, web.session!.account, { kind: "account", id: id.output }, form.get("content")));
        return failed ?? redirect(web, `/admin/accounts/${id.output}`);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/accounts/:id/notes/:note/delete",
      adminPost(context, "moderator", async (web, _form, params) => {
        const id = v.safeParse(rowId, params.id);
        const note = v.safeParse(rowId, params.note);
        if (!id.success || !note.success) return adminError(web, 404, "No such note.");
        const failed = await moderationFailure(web, () => admin.removeNote(context.sql, web.session!.account, { kind: "account", id: id.output }, note.output));
        return failed ?? redirect(web, `/admin/accounts/${id.output}`);
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
        const failed = await moderationFailure(web, async () => {
          if (what.output === "suspend" || what.output === "silence") await admin.performAction(context.sql, actor, id.output, { type: what.output, text: "" });
          else await admin.undo(context.sql, actor, id.output, what.output);
        });
        return failed ?? redirect(web, "/admin/accounts");
      }),
      PAGE_ROUTE,
    );
}

