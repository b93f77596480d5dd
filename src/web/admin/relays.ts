/**
 * /admin/relays: list relays with their state (pending, accepted, rejected, idle), last error and per-minute
 * limit; add one by its inbox URL; enable, disable, limit and remove — through the relays service, as the
 * CLI does. A URL that is unreachable or not a relay inbox is reported on the page at once (and a known
 * relay keeps it as its last error); a relay that answers Reject shows as rejected.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { addRelay, disableRelay, enableRelay, listRelays, MAX_PER_MINUTE_LIMIT, RelayUnreachable, removeRelay, setRelayMaxPerMinute } from "../../features/relays/service";
import { relayMinute } from "../../features/relays/throttle";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { html } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE, type Form, type WebRequest } from "../request";
import { adminGet, adminPage, adminPost } from "./guard";

const inboxField = v.pipe(v.string("Inbox URL can't be blank"), v.trim(), v.minLength(1, "Inbox URL can't be blank"), v.maxLength(2048, "Inbox URL is too long"));
const limitField = v.pipe(v.string(), v.regex(/^\d{1,7}$/, "The limit must be a whole number"), v.transform(Number), v.minValue(1, "The limit must be at least 1"), v.maxValue(MAX_PER_MINUTE_LIMIT, "The limit is too large"));

async function thisMinute(context: AppContext, id: string, max: number): Promise<string> {
  try {
    const { received, dropped } = await relayMinute(context, id, max);
    return dropped ? `${received} received, ${dropped} dropped` : `${received} received`;
  } catch {
    return "—"; // Redis unavailable: the page still lists relays.
  }
}

async function listPage(context: AppContext, web: WebRequest, error?: string, status?: number): Promise<Response> {
  const relays = await listRelays(context);
  const action = (path: string, inbox: string, label: string) =>
    html`<form method="post" action="/admin/relays/${path}">${csrfField(web)}<input type="hidden" name="inbox_url" value="${inbox}"><button type="submit" class="secondary">${label}</button></form>`;
  const rows = await Promise.all(
    relays.map(async (r) => html`<tr><th scope="row">${r.inbox_url}</th><td data-state="${r.state}">${r.state}</td><td>${r.last_error ?? ""}</td>
<td><form method="post" action="/admin/relays/limit">${csrfField(web)}<input type="hidden" name="inbox_url" value="${r.inbox_url}"><input name="max_per_minute" type="number" min="1" max="${MAX_PER_MINUTE_LIMIT}" value="${r.max_per_minute}" aria-label="Activities per minute" style="width:7rem"><button type="submit" class="secondary">Set</button></form></td>
<td>${r.updated_at.toISOString().slice(0, 16).replace("T", " ")}</td>
<td>${r.state === "accepted" ? await thisMinute(context, r.id, r.max_per_minute) : ""}</td>
<td>${r.state === "idle" || r.state === "rejected" ? action("enable", r.inbox_url, "Enable") : action("disable", r.inbox_url, "Disable")} ${action("remove", r.inbox_url, "Remove")}</td></tr>`),
  );
  return adminPage(
    web,
    "Relays",
    html`${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<p>A relay shares public posts between the servers subscribed to it. Posts it brings are fetched from their origin at low priority; its traffic beyond the limit per minute is dropped.</p>
<div class="table"><table><thead><tr><th>Inbox URL</th><th>State</th><th>Last error</th><th>Limit / minute</th><th>Since (UTC)</th><th>This minute</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7">No relay.</td></tr>`}</tbody></table></div>
<h2>Add a relay</h2>
<form method="post" action="/admin/relays">${csrfField(web)}
<label for="inbox_url">Relay inbox URL</label><input id="inbox_url" name="inbox_url" type="url" placeholder="https://relay.example/inbox" required>
<button type="submit">Subscribe</button></form>`,
    status,
  );
}

/** Run one relay operation from a form; a bad URL, an unknown relay or an unreachable one is shown on the page. */
function relayAction(context: AppContext, operation: (inbox: string, form: Form) => Promise<unknown>) {
  return adminPost(context, "admin", async (web, form) => {
    const inbox = v.safeParse(inboxField, form.get("inbox_url"));
    if (!inbox.success) return listPage(context, web, inbox.issues[0].message, 422);
    try {
      await operation(inbox.output, form);
    } catch (error) {
      if (error instanceof RelayUnreachable) return listPage(context, web, error.message, 422);
      if (error instanceof ApiError) return listPage(context, web, error.message, error.status === 404 ? 404 : 422);
      throw error;
    }
    return redirect(web, "/admin/relays");
  });
}

export function relayPages(context: AppContext) {
  return new Elysia({ name: "web-admin-relays" })
    .get("/admin/relays", adminGet(context, "admin", (web) => listPage(context, web)), PAGE_ROUTE)
    .post("/admin/relays", relayAction(context, (inbox) => addRelay(context, inbox)), PAGE_ROUTE)
    .post("/admin/relays/enable", relayAction(context, (inbox) => enableRelay(context, inbox)), PAGE_ROUTE)
    .post("/admin/relays/disable", relayAction(context, (inbox) => disableRelay(context, inbox)), PAGE_ROUTE)
    .post("/admin/relays/remove", relayAction(context, (inbox) => removeRelay(context, inbox)), PAGE_ROUTE)
    .post(
      "/admin/relays/limit",
      relayAction(context, async (inbox, form) => {
        const limit = v.safeParse(limitField, form.get("max_per_minute"));
        if (!limit.success) throw new ApiError(422, limit.issues[0].message);
        await setRelayMaxPerMinute(context, inbox, limit.output);
      }),
      PAGE_ROUTE,
    );
}
