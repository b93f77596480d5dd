/**
 * What the account and report pages share: the moderation notes list with its add / delete forms, the
 * strike list, and the action form (warn, freeze, limit, suspend, mark sensitive — and on a report, delete
 * the reported posts) with the text of the strike. The pages only choose where the forms post.
 */
import * as v from "valibot";
import type * as admin from "../../features/admin/service";
import { html, type SafeHtml } from "../html";
import { csrfField } from "../layout";
import type { WebRequest } from "../request";
import { ApiError } from "../../infra/errors";
import { adminError } from "./guard";

/** The words Mastodon's moderators see for each action (its API names them differently). */
export const ACTION_LABELS: Record<admin.ReportAction, string> = {
  none: "Warn",
  disable: "Freeze",
  silence: "Limit",
  suspend: "Suspend",
  sensitive: "Mark as sensitive",
  delete_statuses: "Delete reported posts",
};

export const rowId = v.pipe(v.string(), v.regex(/^\d{1,19}$/));

export function when(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}

export function handle(account: { username: string; domain: string | null } | undefined): string {
  return account ? `@${account.username}${account.domain ? `@${account.domain}` : ""}` : "(deleted account)";
}

export function notesSection(web: WebRequest, notes: admin.NoteView[], basePath: string, limit: number): SafeHtml {
  const items = notes.map(
    ({ note, author }) => html`<li class="note"><p>${note.content}</p><small>${handle(author)} · <time datetime="${note.created_at.toISOString()}">${when(note.created_at)}</time></small>
<form method="post" action="${basePath}/notes/${note.id}/delete">${csrfField(web)}<button type="submit" class="secondary">Delete note</button></form></li>`,
  );
  return html`<section><h2>Moderation notes</h2>
<ul class="notes">${items.length ? items : html`<li>No notes yet.</li>`}</ul>
<form method="post" action="${basePath}/notes">${csrfField(web)}<label for="note-content">New note (only staff see it)</label>
<textarea id="note-content" name="content" rows="3" maxlength="${limit}" required></textarea><button type="submit">Add note</button></form></section>`;
}

export function strikesSection(strikes: admin.StrikeRow[]): SafeHtml {
  const rows = strikes.map(
    (s) => html`<tr><td>${when(s.created_at)}</td><td>${ACTION_LABELS[s.action as admin.ReportAction] ?? s.action}</td><td>${s.text}</td><td>${s.report_id ? html`<a href="/admin/reports/${s.report_id}">#${s.report_id}</a>` : ""}</td></tr>`,
  );
  return html`<section><h2>Strikes</h2><div class="table"><table><thead><tr><th>When</th><th>Action</th><th>Text</th><th>Report</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">No strikes.</td></tr>`}</tbody></table></div></section>`;
}

export function actionForm(web: WebRequest, path: string, actions: readonly admin.ReportAction[]): SafeHtml {
  return html`<section><h2>Take action</h2><form method="post" action="${path}">${csrfField(web)}
<fieldset><legend>Action</legend>${actions.map(
    (a, i) => html`<label><input type="radio" name="type" value="${a}"${i === 0 ? html` checked` : ""}> ${ACTION_LABELS[a]}</label> `,
  )}</fieldset>
<label for="action-text">Text of the strike (kept with the action on the account's record)</label><textarea id="action-text" name="text" rows="3" maxlength="5000"></textarea>
<button type="submit">Apply</button></form></section>`;
}

/** The action form's fields, validated: 422 text for the page when they are wrong. */
export function readAction<T extends admin.ReportAction>(form: { get(name: string): string }, allowed: readonly T[]): { type: T; text: string } | string {
  const type = form.get("type");
  if (!(allowed as readonly string[]).includes(type)) return "Choose an action.";
  const text = form.get("text").replace(/\r\n/g, "\n").trim();
  if ([...text].length > 5000) return "The text is too long (at most 5000 characters).";
  return { type: type as T, text };
}

/** Run a moderation step; its ApiError becomes the page's 404 / 403 / 422 (anything else is a real failure). */
export async function moderationFailure(web: WebRequest, work: () => Promise<unknown>): Promise<Response | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 404) return adminError(web, 404, "Not found: it may have been deleted.");
    if (error.status === 403) return adminError(web, 403, "You may not do this to that account.");
    return adminError(web, 422, error.message);
  }
}
