/** GET /admin: the numbers an admin looks at first, each from the service that already computes it. */
import { Elysia } from "elysia";
import { usageCounts } from "../../features/federation/store";
import { mediaUsage } from "../../features/media/service";
import type { AppContext } from "../../infra/context";
import { QUEUE_NAMES } from "../../infra/queues/names";
import { queueStats } from "../../cli/admin/queues";
import { html } from "../html";
import { PAGE_ROUTE } from "../request";
import { adminGet, adminPage } from "./guard";

export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function dashboardPage(context: AppContext) {
  return new Elysia({ name: "web-admin-dashboard" }).get(
    "/admin",
    adminGet(context, "admin", async (web) => {
      const [counts, remote, media, queues] = await Promise.all([
        usageCounts(context.sql),
        context.sql<{ count: number }[]>`select count(*)::int as count from accounts where domain is not null`,
        mediaUsage(context.sql),
        queueStats(context.queues, [...QUEUE_NAMES]),
      ]);
      const bytes = (origin: "local" | "remote") => media.filter((m) => m.origin === origin).reduce((sum, m) => sum + m.bytes, 0);
      const stat = (label: string, value: string | number) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
      const sum = (key: "waiting" | "active" | "delayed" | "failed") => queues.reduce((total, q) => total + q[key], 0);
      return adminPage(
        web,
        "Dashboard",
        html`<dl class="stats">
${stat("Users", counts.total)}${stat("Active users (30 days)", counts.activeMonth)}${stat("Local posts", counts.localPosts)}
${stat("Remote accounts", remote[0]?.count ?? 0)}${stat("Local media", formatBytes(bytes("local")))}${stat("Remote media", formatBytes(bytes("remote")))}
${stat("Jobs waiting", sum("waiting"))}${stat("Jobs active", sum("active"))}${stat("Jobs delayed", sum("delayed"))}${stat("Jobs failed", sum("failed"))}
</dl>
<p><a href="/admin/queues">Queue details</a></p>`,
      );
    }),
    PAGE_ROUTE,
  );
}
