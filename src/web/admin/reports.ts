/** /admin/reports: open (or resolved) reports with who reported whom and why, and a resolve button. Moderators may use it. */
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
          (r) => html`<tr><th scope="row">#${r.id}</th><td>${acct(r.target_account_id)}</td><td>${acct(r.account_id)}</td><td>${r.category}</td><td>${r.comment}</td><td>${r.status_ids.length}</td>
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
