/**
 * /admin/settings: the instance's name, descriptions, contact, registrations mode, rules and content retention
 * periods (Mastodon's Settings → Content retention; an empty box means "keep forever"). Every value is
 * checked against the settings' own schemas first; only when all are valid are they written, in one transaction.
 * Rules are edited one per line; a line whose text is unchanged keeps its hint (hints are set through the CLI/API).
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { SETTINGS } from "../../features/settings/definitions";
import { getSetting, setSetting } from "../../features/settings/service";
import type { AppContext } from "../../infra/context";
import type { Sql } from "../../infra/db";
import { html } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE, type Form, type WebRequest } from "../request";
import { adminGet, adminPage, adminPost } from "./guard";

const TEXT_KEYS = ["site_title", "site_short_description", "site_contact_email", "site_contact_username"] as const;
const LABELS: Record<(typeof TEXT_KEYS)[number], string> = {
  site_title: "Instance name",
  site_short_description: "Description",
  site_contact_email: "Contact email",
  site_contact_username: "Contact account (local username)",
};
const MODES = ["open", "approved", "none"] as const;
const RETENTION_KEYS = ["media_cache_retention_period", "content_cache_retention_period", "backups_retention_period"] as const;
const RETENTION_LABELS: Record<(typeof RETENTION_KEYS)[number], string> = {
  media_cache_retention_period: "Media cache retention (days)",
  content_cache_retention_period: "Content cache retention (days)",
  backups_retention_period: "User archive retention (days)",
};
/** A retention box: empty is "forever" (null); anything else must be a whole number, which the schema then bounds. */
const retentionValue = (text: string): unknown => (text.trim() === "" ? null : /^\d+$/.test(text.trim()) ? Number(text.trim()) : text);

async function settingsPage(context: AppContext, web: WebRequest, shown?: Form, error?: string): Promise<Response> {
  const values: Record<string, string> = {};
  for (const key of TEXT_KEYS) values[key] = shown ? shown.get(key) : await getSetting(context.sql, key);
  const mode = shown ? shown.get("registrations_mode") : await getSetting(context.sql, "registrations_mode");
  const rules = shown ? shown.get("rules") : (await getSetting(context.sql, "rules")).map((r) => r.text).join("\n");
  for (const key of RETENTION_KEYS) values[key] = shown ? shown.get(key) : String((await getSetting(context.sql, key)) ?? "");
  const saved = web.url.searchParams.get("saved") === "1";
  return adminPage(
    web,
    "Instance settings",
    html`${error ? html`<p class="error" role="alert">${error}</p>` : saved ? html`<p class="notice" role="status">Settings saved.</p>` : ""}
<form method="post" action="/admin/settings">${csrfField(web)}
${TEXT_KEYS.map((key) =>
  key === "site_short_description"
    ? html`<label for="${key}">${LABELS[key]}</label><textarea id="${key}" name="${key}" rows="3">${values[key]}</textarea>`
    : html`<label for="${key}">${LABELS[key]}</label><input id="${key}" name="${key}" type="text" value="${values[key]}">`,
)}
<label for="registrations_mode">Registrations</label><select id="registrations_mode" name="registrations_mode">${MODES.map((m) => html`<option value="${m}"${m === mode ? html` selected` : ""}>${m}</option>`)}</select>
<label for="rules">Rules (one per line)</label><textarea id="rules" name="rules" rows="6">${rules}</textarea>
<fieldset><legend>Content retention (empty: keep forever)</legend>
${RETENTION_KEYS.map((key) => html`<label for="${key}">${RETENTION_LABELS[key]}</label><input id="${key}" name="${key}" type="number" min="1" max="36500" inputmode="numeric" value="${values[key]}">`)}
</fieldset>
<button type="submit">Save</button></form>`,
    error ? 422 : 200,
  );
}

export function settingsPages(context: AppContext) {
  return new Elysia({ name: "web-admin-settings" })
    .get("/admin/settings", adminGet(context, "admin", (web) => settingsPage(context, web)), PAGE_ROUTE)
    .post(
      "/admin/settings",
      adminPost(context, "admin", async (web, form) => {
        const current = new Map((await getSetting(context.sql, "rules")).map((r) => [r.text, r.hint]));
        const lines = form.get("rules").split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        const candidates: [keyof typeof SETTINGS, unknown][] = [
          ...TEXT_KEYS.map((key): [keyof typeof SETTINGS, unknown] => [key, form.get(key).trim()]),
          ["registrations_mode", form.get("registrations_mode")],
          ["rules", lines.map((text) => ({ text, hint: current.get(text) ?? "" }))],
          ...RETENTION_KEYS.map((key): [keyof typeof SETTINGS, unknown] => [key, retentionValue(form.get(key))]),
        ];
        for (const [key, value] of candidates) {
          const parsed = v.safeParse(SETTINGS[key].schema as v.GenericSchema, value);
          if (!parsed.success) return settingsPage(context, web, form, `${key === "rules" ? "Rules" : (LABELS[key as keyof typeof LABELS] ?? RETENTION_LABELS[key as keyof typeof RETENTION_LABELS] ?? key)}: ${parsed.issues[0]?.message}`);
        }
        await context.sql.begin(async (tx) => {
          for (const [key, value] of candidates) await setSetting(tx as unknown as Sql, key, value);
        });
        return redirect(web, "/admin/settings?saved=1");
      }),
      PAGE_ROUTE,
    );
}
