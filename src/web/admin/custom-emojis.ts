/**
 * /admin/custom_emojis: the custom emojis, ours and other servers' (Mastodon's admin custom emojis page).
 * List (local, or remote with an optional domain filter, by shortcode), upload (PNG / GIF / WebP, checked by
 * custom-emojis/service.ts like the CLI import: 256 KiB, bytes sniffed), enable / disable, show in the
 * picker or not, category, delete. Admins only (Mastodon's manage_custom_emojis is an admin permission);
 * every POST carries the session's CSRF token.
 *
 * The upload is multipart, which the guard's form reader (strings only) cannot hand over, so its route reads
 * the form itself behind adminGet's session and role check, and checks the CSRF token before anything else.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { changeEmoji, deleteEmoji, findEmoji, importEmoji, listEmojis, MAX_EMOJI_BYTES, renderCustomEmoji } from "../../features/custom-emojis/service";
import type { CustomEmojiRow } from "../../features/custom-emojis/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { html } from "../html";
import { csrfField, csrfFailure, redirect } from "../layout";
import { CSRF_FIELD, PAGE_ROUTE, queryValue, type WebRequest } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";

const PAGE_SIZE = 100;
const emojiId = v.pipe(v.string(), v.regex(/^\d{1,19}$/));
const listQuery = v.object({
  scope: v.picklist(["local", "remote"], "Show local or remote emojis"),
  domain: v.pipe(v.string(), v.trim(), v.toLowerCase(), v.maxLength(253, "Domain is too long"), v.regex(/^[a-z0-9.:-]*$/, "Domain is not a domain")),
  q: v.pipe(v.string(), v.trim(), v.maxLength(64, "Search is too long")),
  page: v.pipe(v.string(), v.regex(/^\d{0,4}$/, "Page must be a number")),
});
const changeForm = v.variant("action", [
  v.object({ action: v.picklist(["enable", "disable", "show", "hide"]) }),
  v.object({ action: v.literal("category"), category: v.pipe(v.string(), v.trim(), v.maxLength(64, "Category is too long")) }),
]);
const uploadFields = v.object({
  shortcode: v.pipe(v.string(), v.trim(), v.regex(/^[a-zA-Z0-9_]{2,64}$/, "Shortcode must be 2 to 64 letters, digits or underscores")),
  category: v.pipe(v.string(), v.trim(), v.maxLength(64, "Category is too long")),
});

type Query = v.InferOutput<typeof listQuery>;

function listUrl(query: Query, page = Number(query.page || "0")): string {
  const params = new URLSearchParams({ scope: query.scope });
  if (query.domain) params.set("domain", query.domain);
  if (query.q) params.set("q", query.q);
  if (page > 0) params.set("page", String(page));
  return `/admin/custom_emojis?${params}`;
}

/** Where a change sends the admin back: the list they came from (a same-site path only). */
function backTo(web: WebRequest, fallback = "/admin/custom_emojis"): string {
  const referer = web.request.headers.get("referer");
  if (!referer) return fallback;
  try {
    const url = new URL(referer);
    return url.host === web.url.host && url.pathname === "/admin/custom_emojis" ? `${url.pathname}${url.search}` : fallback;
  } catch {
    return fallback;
  }
}

async function listPage(context: AppContext, web: WebRequest, query: Query, error?: string): Promise<Response> {
  const page = Number(query.page || "0");
  const rows = await listEmojis(context, {
    scope: query.scope === "local" ? "local" : query.domain ? { domain: query.domain } : "remote",
    query: query.q || undefined,
    limit: PAGE_SIZE + 1,
    offset: page * PAGE_SIZE,
  });
  const more = rows.length > PAGE_SIZE;
  const button = (row: CustomEmojiRow, action: string, label: string, secondary = true) =>
    html`<form method="post" action="/admin/custom_emojis/${row.id}/change">${csrfField(web)}<input type="hidden" name="action" value="${action}"><button type="submit"${secondary ? html` class="secondary"` : ""}>${label}</button></form>`;
  const body = rows.slice(0, PAGE_SIZE).map((row) => {
    const entity = renderCustomEmoji(context.config, row);
    return html`<tr><td><img src="${entity.url}" alt=":${row.shortcode}:" width="32" height="32" loading="lazy" referrerpolicy="no-referrer"></td>
<th scope="row">:${row.shortcode}:</th><td>${row.domain ?? "local"}</td>
<td><form method="post" action="/admin/custom_emojis/${row.id}/change">${csrfField(web)}<input type="hidden" name="action" value="category"><input name="category" value="${row.category ?? ""}" maxlength="64" aria-label="Category of :${row.shortcode}:"><button type="submit" class="secondary">Save</button></form></td>
<td>${row.disabled ? "disabled" : "enabled"}${row.visible_in_picker ? "" : ", hidden from picker"}</td>
<td>${row.disabled ? button(row, "enable", "Enable", false) : button(row, "disable", "Disable")} ${row.visible_in_picker ? button(row, "hide", "Hide from picker") : button(row, "show", "Show in picker")}
<form method="post" action="/admin/custom_emojis/${row.id}/delete">${csrfField(web)}<button type="submit" class="secondary">Delete</button></form></td></tr>`;
  });
  const scopes = (["local", "remote"] as const).map((s) => html`<option value="${s}"${s === query.scope ? html` selected` : ""}>${s}</option>`);
  return adminPage(
    web,
    "Custom emojis",
    html`${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<form method="get" action="/admin/custom_emojis"><label for="scope">Which</label><select id="scope" name="scope">${scopes}</select>
<label for="domain">Domain (remote)</label><input id="domain" name="domain" type="text" value="${query.domain}">
<label for="q">Shortcode contains</label><input id="q" name="q" type="text" value="${query.q}">
<button type="submit">Filter</button></form>
<div class="table"><table><thead><tr><th>Image</th><th>Shortcode</th><th>Domain</th><th>Category</th><th>State</th><th></th></tr></thead>
<tbody>${body.length ? body : html`<tr><td colspan="6">No custom emojis.</td></tr>`}</tbody></table></div>
<p>${page > 0 ? html`<a href="${listUrl(query, page - 1)}">Previous</a> ` : ""}${more ? html`<a href="${listUrl(query, page + 1)}">Next</a>` : ""}</p>
<h2>Upload</h2>
<form method="post" action="/admin/custom_emojis" enctype="multipart/form-data">${csrfField(web)}
<label for="shortcode">Shortcode</label><input id="shortcode" name="shortcode" type="text" required pattern="[a-zA-Z0-9_]{2,64}">
<label for="category">Category (optional)</label><input id="category" name="category" type="text" maxlength="64">
<label for="image">Image (PNG, GIF or WebP, at most ${MAX_EMOJI_BYTES / 1024} KiB)</label><input id="image" name="image" type="file" accept="image/png,image/gif,image/webp" required>
<button type="submit">Upload</button></form>`,
    error ? 422 : 200,
  );
}

const LOCAL: Query = { scope: "local", domain: "", q: "", page: "" };

export function customEmojiPages(context: AppContext) {
  return new Elysia({ name: "web-admin-custom-emojis" })
    .get(
      "/admin/custom_emojis",
      adminGet(context, "admin", async (web) => {
        const parsed = v.safeParse(listQuery, {
          scope: queryValue(web.url, "scope") || "local",
          domain: queryValue(web.url, "domain"),
          q: queryValue(web.url, "q"),
          page: queryValue(web.url, "page"),
        });
        if (!parsed.success) return adminError(web, 422, parsed.issues[0].message);
        return listPage(context, web, parsed.output);
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/custom_emojis",
      // adminGet does the session and role check only; the multipart form is read here (see the top).
      adminGet(context, "admin", async (web) => {
        let form: Awaited<ReturnType<Request["formData"]>>;
        try {
          form = await web.request.formData();
        } catch {
          return listPage(context, web, LOCAL, "The upload could not be read");
        }
        const field = (name: string) => {
          const value = form.get(name);
          return typeof value === "string" ? value.replace(/\u0000/g, "").toWellFormed() : "";
        };
        if (!web.verifyCsrf(field(CSRF_FIELD))) return csrfFailure(web);
        const parsed = v.safeParse(uploadFields, { shortcode: field("shortcode"), category: field("category") });
        if (!parsed.success) return listPage(context, web, LOCAL, parsed.issues[0].message);
        const file = form.get("image");
        if (!(file instanceof Blob) || file.size === 0) return listPage(context, web, LOCAL, "Choose an image to upload");
        if (file.size > MAX_EMOJI_BYTES) return listPage(context, web, LOCAL, `The image is larger than ${MAX_EMOJI_BYTES / 1024} KiB`);
        try {
          const result = await importEmoji(context, { shortcode: parsed.output.shortcode, category: parsed.output.category || null, bytes: new Uint8Array(await file.arrayBuffer()) });
          if (result.outcome === "skipped") return listPage(context, web, LOCAL, `:${parsed.output.shortcode}: already exists`);
        } catch (error) {
          if (error instanceof ApiError) return listPage(context, web, LOCAL, error.message);
          throw error;
        }
        return redirect(web, listUrl(LOCAL));
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/custom_emojis/:id/change",
      adminPost(context, "admin", async (web, form, params) => {
        const id = v.safeParse(emojiId, params.id);
        if (!id.success || !(await findEmoji(context, id.output))) return adminError(web, 404, "No such custom emoji.");
        const parsed = v.safeParse(changeForm, { action: form.get("action"), category: form.get("category") });
        if (!parsed.success) return adminError(web, 422, parsed.issues[0].message);
        const change = parsed.output;
        await changeEmoji(
          context,
          id.output,
          change.action === "category"
            ? { category: change.category }
            : change.action === "enable" || change.action === "disable"
              ? { disabled: change.action === "disable" }
              : { visible_in_picker: change.action === "show" },
        );
        return redirect(web, backTo(web));
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/custom_emojis/:id/delete",
      adminPost(context, "admin", async (web, _form, params) => {
        const id = v.safeParse(emojiId, params.id);
        if (!id.success || !(await findEmoji(context, id.output))) return adminError(web, 404, "No such custom emoji.");
        await deleteEmoji(context, id.output).catch((error: unknown) => {
          // Deleted by someone else in between: the same end.
          if (!(error instanceof ApiError && error.status === 404)) throw error;
        });
        return redirect(web, backTo(web));
      }),
      PAGE_ROUTE,
    );
}
