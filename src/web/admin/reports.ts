/**
 * /admin/reports: open (or resolved) reports with who reported whom and why, and a resolve button.
 * /admin/reports/:id: one report with the reported posts, its notes (add, delete), and the actions on its
 * target (warn, freeze, limit, suspend, mark sensitive, delete the reported posts) — each resolves the report
 * and records a strike against it. Moderators may use it.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { pageParams, pageWhere } from "../../api/pagination";
import { findAccountsByIds } from "../../features/accounts/store";
import * as reports from "../../features/admin/reports";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { html } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";
import * as admin from "../../features/admin/service";
import { loadStatusPage } from "../../features/statuses/service";
import { htmlToText } from "../../features/federation/sanitize";
import { actionForm, handle, moderationFailure, notesSection, readAction, when } from "./moderation";

const PAGE_SIZE = 50;
const reportId = v.pipe(v.string(), v.regex(/^\d{1,19}$/));

export function reportPages(context: AppContext) {
  return new Elysia({ name: "web-admin-reports" })
    .get(
      "/admin/reports",
      adminGet(context, "moderator", async (web) => {
        const resolved = web.url.searchParams.get("resolved") === "true";
        const rows = await reports.listReports(context.sql, { resolved }, pageWhere(context.sql, context.sql`x.id`, pageParams({}, PAGE_SIZE)));
        const accounts = new Map((await findAccountsByIds(context.sql, [...new Set(rows.flatMap((r) => [r.account_id, r.target_account_id]))])).map((a) => [a.id, a]));
        const acct = (id: string) => {
          const a = accounts.get(id);
          return a ? `@${a.username}${a.domain ? `@${a.domain}` : ""}` : `#${id}`;
        };
        const items = rows.map(
          (r) => html`<tr><th scope="row"><a href="/admin/reports/${r.id}">#${r.id}</a></th><td>${acct(r.target_account_id)}</td><td>${acct(r.account_id)}</td><td>${r.category}</td><td>${r.comment}</td><td>${r.status_ids.length}</td>
<td>${r.action_taken_at ? `resolved ${r.action_taken_at.toISOString().slice(0, 16).replace("T", " ")}` : html`<form method="post" action="/admin/reports/${r.id}/resolve">${csrfField(web)}<button type="submit">Resolve</button></form>`}</td></tr>`,
        );
        return adminPage(
          web,
          resolved ? "Resolved reports" : "Open reports",
          html`<p>${resolved ? html`<a href="/admin/reports">Show open reports</a>` : html`<a href="/admin/reports?resolved=true">Show resolved reports</a>`}</p>
<div class="table"><table><thead><tr><th>Report</th><th>Reported</th><th>By</th><th>Category</th><th>Comment</th><th>Posts</th><th></th></tr></thead>
<tbody>${items.length ? items : html`<tr><td colspan="7">No reports.</td></tr>`}</tbody></table></div>`,
        );
      }),
      PAGE_ROUTE,
    )
    .get(
      "/admin/reports/:id",
      adminGet(context, "moderator", async (web) => {
        const id = v.safeParse(reportId, web.url.pathname.split("/")[3]);
        if (!id.success) return adminError(web, 404, "No such report.");
        let report: reports.AdminReportRow;
        try {
          report = await reports.findReport(context.sql, id.output);
        } catch (error) {
          if (error instanceof ApiError && error.status === 404) return adminError(web, 404, "No such report.");
          throw error;
        }
        const moderator = web.session!.account;
        const [accounts, notes, page] = await Promise.all([
          findAccountsByIds(context.sql, [report.account_id, report.target_account_id]),
          admin.notesFor(context.sql, { kind: "report", id: report.id }),
          loadStatusPage(context.sql, moderator.id, report.status_ids),
        ]);
        const byId = new Map(accounts.map((a) => [a.id, a]));
        const posts = report.status_ids.map((sid) => {
          const row = page.rows.get(sid);
          return html`<li>#${sid}: ${row ? htmlToText(row.content).slice(0, 500) : "(not visible or deleted)"}</li>`;
        });
        const target = byId.get(report.target_account_id);
        return adminPage(
          web,
          `Report #${report.id}`,
          html`<dl class="stats"><div><dt>Reported</dt><dd>${target ? html`<a href="/admin/accounts/${target.id}">${handle(target)}</a>` : handle(undefined)}</dd></div>
<div><dt>By</dt><dd>${handle(byId.get(report.account_id))}</dd></div><div><dt>Category</dt><dd>${report.category}</dd></div>
<div><dt>Filed</dt><dd>${when(report.created_at)}</dd></div><div><dt>State</dt><dd>${report.action_taken_at ? `resolved ${when(report.action_taken_at)}` : "open"}</dd></div></dl>
<p class="comment">${report.comment || "(no comment)"}</p>
<h2>Reported posts</h2><ul>${posts.length ? posts : html`<li>None.</li>`}</ul>
${report.action_taken_at ? "" : html`<form method="post" action="/admin/reports/${report.id}/resolve">${csrfField(web)}<button type="submit" class="secondary">Resolve without action</button></form>`}
${actionForm(web, `/admin/reports/${report.id}/action`, admin.REPORT_ACTIONS)}
${notesSection(web, notes, `/admin/reports/${report.id}`, admin.NOTE_LIMITS.report)}`,
        );
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/reports/:id/action",
      adminPost(context, "moderator", async (web, form, params) => {
        const id = v.safeParse(reportId, params.id);
        if (!id.success) return adminError(web, 404, "No such report.");
        const action = readAction(form, admin.REPORT_ACTIONS);
        if (typeof action === "string") return adminError(web, 422, action);
        const failed = await moderationFailure(web, () => admin.actOnReport(context, web.session!.account, id.output, action));
        return failed ?? redirect(web, `/admin/reports/${id.output}`);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/reports/:id/notes",
      adminPost(context, "moderator", async (web, form, params) => {
        const id = v.safeParse(reportId, params.id);
        if (!id.success) return adminError(web, 404, "No such report.");
        const failed = await moderationFailure(web, () => admin.addNote(context.sql, web.session!.account, { kind: "report", id: id.output }, form.get("content")));
        return failed ?? redirect(web, `/admin/reports/${id.output}`);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/reports/:id/notes/:note/delete",
      adminPost(context, "moderator", async (web, _form, params) => {
        const id = v.safeParse(reportId, params.id);
        const note = v.safeParse(reportId, params.note);
        if (!id.success || !note.success) return adminError(web, 404, "No such note.");
        const failed = await moderationFailure(web, () => admin.removeNote(context.sql, web.session!.account, { kind: "report", id: id.output }, note.output));
        return failed ?? redirect(web, `/admin/reports/${id.output}`);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/reports/:id/resolve",
      adminPost(context, "moderator", async (web, _form, params) => {
        const id = v.safeParse(reportId, params.id);
        if (!id.success) return adminError(web, 404, "No such report.");
        try {
          await reports.changeReport(context.sql, id.output, { kind: "resolve", accountId: web.session!.account.id });
        } catch (error) {
          if (error instanceof ApiError) return adminError(web, error.status === 404 ? 404 : 422, error.status === 404 ? "No such report." : error.message);
          throw error;
        }
        return redirect(web, "/admin/reports");
      }),
      PAGE_ROUTE,
    );
}
