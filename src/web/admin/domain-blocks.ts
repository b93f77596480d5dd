/**
 * /admin/domain_blocks: list, add, remove, export as Mastodon's CSV, and import a CSV in two steps — the
 * preview shows what would be added/changed (nothing is written), the apply button re-reads the same CSV
 * (carried in the preview's form) and applies the plan in one transaction.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { applyImport, CsvError, formatBlocklistCsv, listDomainBlocks, normaliseDomain, parseBlocklistCsv, planImport, putDomainBlock, SEVERITIES, unblockDomain } from "../../features/federation/domain-blocks";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { html, type SafeHtml } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE, type WebRequest } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";

/** A pasted blocklist larger than this is refused before parsing (well above real shared lists). */
const MAX_CSV_CHARS = 2_000_000;

const addForm = v.object({
  domain: v.pipe(v.string(), v.trim(), v.minLength(1, "Domain can't be blank"), v.maxLength(253, "Domain is too long")),
  severity: v.picklist(SEVERITIES, "Choose a severity"),
  reject_media: v.string(),
  reject_reports: v.string(),
  private_comment: v.pipe(v.string(), v.maxLength(1000, "Private comment is too long")),
  public_comment: v.pipe(v.string(), v.maxLength(1000, "Public comment is too long")),
});
const csvForm = v.object({ csv: v.pipe(v.string(), v.minLength(1, "Paste a CSV first"), v.maxLength(MAX_CSV_CHARS, "The CSV is too large")) });

function listPage(context: AppContext, web: WebRequest, error?: string, status?: number): Promise<Response> {
  return listDomainBlocks(context.sql).then((blocks) => {
    const rows = blocks.map(
      (b) => html`<tr><th scope="row">${b.domain}</th><td>${b.severity}</td><td>${b.reject_media ? "yes" : ""}</td><td>${b.reject_reports ? "yes" : ""}</td><td>${b.public_comment ?? ""}</td>
<td><form method="post" action="/admin/domain_blocks/remove">${csrfField(web)}<input type="hidden" name="domain" value="${b.domain}"><button type="submit" class="secondary">Remove</button></form></td></tr>`,
    );
    return adminPage(
      web,
      "Domain blocks",
      html`${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<p><a href="/admin/domain_blocks/export" download>Export as CSV</a></p>
<div class="table"><table><thead><tr><th>Domain</th><th>Severity</th><th>Reject media</th><th>Reject reports</th><th>Public comment</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6">No domain is blocked.</td></tr>`}</tbody></table></div>
<h2>Block a domain</h2>
<form method="post" action="/admin/domain_blocks">${csrfField(web)}
<label for="domain">Domain</label><input id="domain" name="domain" type="text" required>
<label for="severity">Severity</label><select id="severity" name="severity">${SEVERITIES.map((s) => html`<option value="${s}"${s === "silence" ? html` selected` : ""}>${s}</option>`)}</select>
<label class="check"><input type="checkbox" name="reject_media" value="true"> Reject media files</label>
<label class="check"><input type="checkbox" name="reject_reports" value="true"> Reject reports</label>
<label for="private_comment">Private comment</label><input id="private_comment" name="private_comment" type="text">
<label for="public_comment">Public comment</label><input id="public_comment" name="public_comment" type="text">
<button type="submit">Block</button></form>
<h2>Import a blocklist</h2>
<form method="post" action="/admin/domain_blocks/import">${csrfField(web)}
<label for="csv">Mastodon CSV (paste the file's contents)</label><textarea id="csv" name="csv" rows="6" required></textarea>
<button type="submit">Preview import</button></form>`,
      status,
    );
  });
}

/** Parse and plan a pasted CSV; a readable error message instead when the file is not understood. */
async function readPlan(context: AppContext, csv: string) {
  try {
    return { plan: await planImport(context.sql, parseBlocklistCsv(csv)) };
  } catch (error) {
    if (error instanceof CsvError || error instanceof ApiError) return { error: `The CSV could not be read: ${error.message}` };
    throw error;
  }
}

export function domainBlockPages(context: AppContext) {
  return new Elysia({ name: "web-admin-domain-blocks" })
    .get("/admin/domain_blocks", adminGet(context, "admin", (web) => listPage(context, web)), PAGE_ROUTE)
    .get(
      "/admin/domain_blocks/export",
      adminGet(context, "admin", async () => {
        const csv = formatBlocklistCsv(await listDomainBlocks(context.sql));
        return new Response(csv, {
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": 'attachment; filename="domain_blocks.csv"', "cache-control": "no-store" },
        });
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/domain_blocks",
      adminPost(context, "admin", async (web, form) => {
        const parsed = v.safeParse(addForm, Object.fromEntries(Object.keys(addForm.entries).map((k) => [k, form.get(k)])));
        if (!parsed.success) return listPage(context, web, parsed.issues[0].message, 422);
        const input = parsed.output;
        let domain: string;
        try {
          domain = normaliseDomain(input.domain);
        } catch (error) {
          if (error instanceof ApiError) return listPage(context, web, error.message, 422);
          throw error;
        }
        await putDomainBlock(context, {
          domain,
          severity: input.severity,
          reject_media: input.reject_media === "true",
          reject_reports: input.reject_reports === "true",
          private_comment: input.private_comment || null,
          public_comment: input.public_comment || null,
          obfuscate: false,
        });
        return redirect(web, "/admin/domain_blocks");
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/domain_blocks/remove",
      adminPost(context, "admin", async (web, form) => {
        try {
          await unblockDomain(context.sql, form.get("domain"));
        } catch (error) {
          if (error instanceof ApiError) return listPage(context, web, error.message, 422);
          throw error;
        }
        return redirect(web, "/admin/domain_blocks");
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/domain_blocks/import",
      adminPost(context, "admin", async (web, form) => {
        const parsed = v.safeParse(csvForm, { csv: form.get("csv") });
        if (!parsed.success) return listPage(context, web, parsed.issues[0].message, 422);
        const result = await readPlan(context, parsed.output.csv);
        if (!result.plan) return listPage(context, web, result.error, 422);
        const { plan } = result;
        const row = (domain: string, what: string, severity: string, before?: string): SafeHtml =>
          html`<tr><th scope="row">${domain}</th><td>${what}</td><td>${before ? `${before} → ${severity}` : severity}</td></tr>`;
        const rows = [
          ...plan.added.map((b) => row(b.domain, "add", b.severity)),
          ...plan.changed.map((c) => row(c.after.domain, "change", c.after.severity, c.before.severity)),
        ];
        return adminPage(
          web,
          "Import preview",
          html`<p role="status">${plan.added.length} to add, ${plan.changed.length} to change, ${plan.unchanged.length} unchanged. Nothing has been written yet.</p>
<div class="table"><table><thead><tr><th>Domain</th><th>Action</th><th>Severity</th></tr></thead><tbody>${rows}</tbody></table></div>
<form method="post" action="/admin/domain_blocks/import/apply">${csrfField(web)}<input type="hidden" name="csv" value="${parsed.output.csv}">
<div class="actions"><button type="submit"${rows.length ? "" : html` disabled`}>Apply import</button><a href="/admin/domain_blocks">Cancel</a></div></form>`,
        );
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/domain_blocks/import/apply",
      adminPost(context, "admin", async (web, form) => {
        const parsed = v.safeParse(csvForm, { csv: form.get("csv") });
        if (!parsed.success) return listPage(context, web, parsed.issues[0].message, 422);
        // Planned again against the blocks stored now: what is applied is what the preview showed, unless
        // another admin changed a block in between (then the newer state wins, as a fresh preview would show).
        const result = await readPlan(context, parsed.output.csv);
        if (!result.plan) return listPage(context, web, result.error, 422);
        await applyImport(context, result.plan);
        return redirect(web, "/admin/domain_blocks");
      }),
      PAGE_ROUTE,
    );
}
