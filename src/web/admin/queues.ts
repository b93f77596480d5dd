/**
 * GET /admin/queues and the retry/discard buttons: what the Sidekiq dashboard gives Mastodon admins. Jobs done
 * and failed per minute over the last hour come from BullMQ's metrics (workers run with `metrics` on), drawn as
 * a small inline SVG per queue so the page needs no script and stays readable on a phone.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { queueRates, queueStats } from "../../cli/admin/queues";
import type { AppContext } from "../../infra/context";
import { QUEUE_NAMES, type QueueName } from "../../infra/queues/names";
import { html, type SafeHtml } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";

/** How many failed jobs one click moves; more clicks for more (a bounded Redis call each). */
const BATCH = 1000;
const queueName = v.picklist(QUEUE_NAMES);

/**
 * A bar per minute, completed above the line and failed below it in red; one shared scale per chart. The
 * numbers are in the <title> (tooltip and screen readers) and the hour's totals in the caption above it.
 */
function rateChart(completed: number[], failed: number[]): SafeHtml {
  const max = Math.max(1, ...completed, ...failed);
  const width = completed.length * 3;
  const bar = (values: number[], down: boolean, cls: string) =>
    values.map((n, i) => {
      if (n === 0) return "";
      const h = Math.max(1, Math.round((n / max) * 20));
      return html`<rect class="${cls}" x="${i * 3}" y="${down ? 21 : 20 - h}" width="2" height="${h}"></rect>`;
    });
  // Stretched to the page's width (viewBox + preserveAspectRatio none): a phone gets the whole hour, no scrolling.
  return html`<svg viewBox="0 0 ${width} 42" width="100%" height="42" role="img" preserveAspectRatio="none" style="display:block">
<title>per minute, last ${completed.length} minutes: completed ${completed.join(" ")}; failed ${failed.join(" ")}</title>
<line x1="0" y1="20.5" x2="${width}" y2="20.5" stroke="currentColor" stroke-opacity="0.3" stroke-width="0.5"></line>
<g fill="currentColor">${bar(completed, false, "done")}</g><g fill="#c0392b">${bar(failed, true, "failed")}</g></svg>`;
}

const total = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function queuePages(context: AppContext) {
  return new Elysia({ name: "web-admin-queues" })
    .get(
      "/admin/queues",
      adminGet(context, "admin", async (web) => {
        const [stats, rates] = await Promise.all([queueStats(context.queues, [...QUEUE_NAMES]), queueRates(context.queues, [...QUEUE_NAMES])]);
        // The notice is rebuilt from checked values, so a crafted link cannot put arbitrary words on the page.
        const doneQueue = v.safeParse(queueName, web.url.searchParams.get("queue"));
        const doneAction = v.safeParse(v.picklist(["retried", "discarded"]), web.url.searchParams.get("did"));
        const doneCount = Number(web.url.searchParams.get("count"));
        const done = doneQueue.success && doneAction.success && Number.isSafeInteger(doneCount) ? `${doneQueue.output}: ${doneCount} failed job(s) ${doneAction.output}` : undefined;
        const button = (name: string, action: "retry" | "discard", label: string) =>
          html`<form method="post" action="/admin/queues/${name}/${action}">${csrfField(web)}<button type="submit" class="${action === "discard" ? "secondary" : ""}">${label}</button></form>`;
        const rows = stats.map(
          (s) => html`<tr><th scope="row">${s.queue}</th><td>${s.waiting}</td><td>${s.active}</td><td>${s.delayed}</td><td>${s.failed}</td><td>${s.completed}</td>
<td>${s.oldestWaitingSeconds === null ? "—" : `${s.oldestWaitingSeconds}s`}</td>
<td>${s.failed > 0 ? html`${button(s.queue, "retry", "Retry failed")} ${button(s.queue, "discard", "Discard failed")}` : ""}</td></tr>`,
        );
        return adminPage(
          web,
          "Queues",
          html`${done ? html`<p class="notice" role="status">${done}</p>` : ""}
<div class="table"><table><thead><tr><th>Queue</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Failed</th><th>Completed</th><th>Oldest waiting</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div>
<h2>Last hour</h2>
<p>Jobs finished per minute over the last 60 minutes (now at the right): completed above the line, failed below it (red). Counted by the workers; a queue no worker consumes stays flat.</p>
${rates.map(
            (r) =>
              html`<figure class="rates" data-queue="${r.queue}" style="margin:0 0 1em"><figcaption><strong>${r.queue}</strong>: <span class="completed-hour">${total(r.completed)}</span> completed, <span class="failed-hour">${total(r.failed)}</span> failed</figcaption>${rateChart(r.completed, r.failed)}</figure>`,
          )}
<p>Completed and failed in the first table are the totals the queue still keeps (completed jobs are dropped after a day).</p>`,
        );
      }),
      PAGE_ROUTE,
    )
    .post(
      "/admin/queues/:name/:action",
      adminPost(context, "admin", async (web, _form, params) => {
        const name = v.safeParse(queueName, params.name);
        const action = v.safeParse(v.picklist(["retry", "discard"]), params.action);
        if (!name.success || !action.success) return adminError(web, 404, "No such queue or action.");
        const queue = context.queues.queue(name.output as QueueName);
        const failed = await queue.getFailedCount();
        if (failed > 0) {
          if (action.output === "retry") await queue.retryJobs({ state: "failed", count: BATCH });
          else await queue.clean(0, BATCH, "failed");
        }
        const did = action.output === "retry" ? "retried" : "discarded";
        return redirect(web, `/admin/queues?queue=${name.output}&did=${did}&count=${Math.min(failed, BATCH)}`);
      }),
      PAGE_ROUTE,
    );
}
