/**
 * GET /admin/queues and the retry/discard buttons. Rates per minute are not shown: BullMQ only records
 * them when workers are started with `metrics`, which ours are not; completed/failed totals are shown instead.
 */
import { Elysia } from "elysia";
import * as v from "valibot";
import { queueStats } from "../../cli/admin/queues";
import type { AppContext } from "../../infra/context";
import { QUEUE_NAMES, type QueueName } from "../../infra/queues/names";
import { html } from "../html";
import { csrfField, redirect } from "../layout";
import { PAGE_ROUTE } from "../request";
import { adminError, adminGet, adminPage, adminPost } from "./guard";

/** How many failed jobs one click moves; more clicks for more (a bounded Redis call each). */
const BATCH = 1000;
const queueName = v.picklist(QUEUE_NAMES);

export function queuePages(context: AppContext) {
  return new Elysia({ name: "web-admin-queues" })
    .get(
      "/admin/queues",
      adminGet(context, "admin", async (web) => {
        const stats = await queueStats(context.queues, [...QUEUE_NAMES]);
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
<p>Jobs per minute are not recorded (workers run without BullMQ metrics); completed and failed are totals kept by the queue.</p>`,
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
