/**
 * /admin/announcements: list, create (text and an optional end, in UTC) and delete announcements, through the
 * announcements service so that live clients hear about them as with the CLI.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { renderAnnouncement } from "../../api/entities/announcement";
import { allAnnouncements, createAnnouncement, deleteAnnouncement } from "../../features/announcements/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { html } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE, type WebRequest } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";

const newForm = v.object({
  text: v.pipe(v.string(), v.trim(), v.minLength(1, "Text can't be blank"), v.maxLength(10_000, "Text is too long")),
  // <input type="datetime-local"> sends "2026-11-22T08:30"; empty means no end.
  ends_at: v.union([v.literal(""), v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, "End must be a date and time"))]),
});
const announcementId = v.pipe(v.string(), v.regex(/^\d{1,19}$/));

async function listPage(context: AppContext, web: WebRequest, error?: string): Promise<Response> {
  const rows = (await allAnnouncements(context.sql)).map(
    (a) => html`<tr><td>${a.text}</td><td>${a.published_at.toISOString().slice(0, 16).replace("T", " ")}</td><td>${a.ends_at ? a.ends_at.toISOString().slice(0, 16).replace("T", " ") : "—"}</td>
<td><form method="post" action="/admin/announcements/${a.id}/delete">${csrfField(web)}<button type="submit" class="secondary">Delete</button></form></td></tr>`,
  );
  return adminPage(
    web,
    "Announcements",
    html`${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<div class="table"><table><thead><tr><th>Text</th><th>Published (UTC)</th><th>Ends (UTC)</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">No announcements.</td></tr>`}</tbody></table></div>
<h2>New announcement</h2>
<form method="post" action="/admin/announcements">${csrfField(web)}
<label for="text">Text</label><textarea id="text" name="text" rows="4" required></textarea>
<label for="ends_at">Ends at (UTC, optional)</label><input id="ends_at" name="ends_at" type="datetime-local">
<button type="submit">Publish</button></form>`,
    error ? 422 : 200,
  );
}

export function announcementPages(context: AppContext) {
  return new Elysia({ name: "web-admin-announcements" })
    .get("/admin/announcements", adminGet(context, "admin", (web) => listPage(context, web)), PAGE_ROUTE)
    .post(
      "/admin/announcements",
      adminPost(context, "admin", async (web, form) => {
        const parsed = v.safeParse(newForm, { text: form.get("text"), ends_at: form.get("ends_at") });
        if (!parsed.success) return listPage(context, web, parsed.issues[0].message);
        const endsAt = parsed.output.ends_at ? new Date(`${parsed.output.ends_at}:00Z`) : null;
        if (endsAt && (Number.isNaN(endsAt.getTime()) || endsAt <= new Date())) return listPage(context, web, "End must be a valid time in the future");
        try {
          await createAnnouncement(context, { text: parsed.output.text, endsAt }, (row) => renderAnnouncement(row));
        } catch (error) {
          if (error instanceof ApiError) return listPage(context, web, error.message);
          throw error;
        }
        return redirect(web, "/admin/announcements");
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/announcements/:id/delete",
      adminPost(context, "admin", async (web, _form, params) => {
        const id = v.safeParse(announcementId, params.id);
        if (!id.success || !(await deleteAnnouncement(context, id.output))) return adminError(web, 404, "No such announcement.");
        return redirect(web, "/admin/announcements");
      }),
      PAGE_ROUTE,
    );
}
