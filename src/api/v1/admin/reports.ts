/**
 * /api/v1/admin/reports: moderators list, read, recategorise, assign, resolve and reopen reports
 * (Mastodon's manage_reports permission, which moderators have).
 */
import * as v from "valibot";
import * as reports from "../../../features/admin/reports";
import { isAccountId } from "../../../features/accounts/service";
import { getSetting } from "../../../features/settings/service";
import type { AppContext } from "../../../infra/context";
import { routes } from "../../endpoint";
import { renderAdminReports } from "../../entities/admin/report";
import { paginationEntries } from "../../pagination";
import { flag, idList } from "../statuses-input";
import type { Caller } from "../../caller";
import { checkedId, idParams, paged } from "./common";

const MODS = { auth: "user" as const, role: "Moderator" as const, tags: ["admin"] };
const readReports = { ...MODS, scopes: ["admin:read", "admin:read:reports"] } as const;
const writeReports = { ...MODS, scopes: ["admin:write", "admin:write:reports"] } as const;

const idText = v.optional(v.pipe(v.string(), v.check((s: string) => isAccountId(s), "is not an id")));
const listQuery = v.object({ ...paginationEntries, resolved: v.optional(flag), account_id: idText, target_account_id: idText });
const updateBody = v.object({
  category: v.optional(v.picklist(reports.REPORT_CATEGORIES, `must be one of ${reports.REPORT_CATEGORIES.join(", ")}`)),
  rule_ids: v.optional(idList(50)),
});

export function adminReportRoutes(context: AppContext) {
  const render = async (caller: Caller, rows: reports.AdminReportRow[]) => renderAdminReports(context, caller.account!, rows, await getSetting(context.sql, "rules"));
  const one = async (caller: Caller, row: reports.AdminReportRow) => (await render(caller, [row]))[0];

  return routes(context, "admin-reports", (r) => {
    r.get("/api/v1/admin/reports", { ...readReports, query: listQuery, summary: "View all reports" }, async ({ input, request, set, caller }) => {
      const q = input.query;
      const rows = await paged(context, q, request, set, (page) =>
        reports.listReports(context.sql, { resolved: q.resolved ?? false, accountId: q.account_id, targetAccountId: q.target_account_id }, page),
      );
      return render(caller, rows);
    });

    r.get("/api/v1/admin/reports/:id", { ...readReports, params: idParams, summary: "View a single report" }, async ({ input, caller }) =>
      one(caller, await reports.findReport(context.sql, checkedId(input.params.id))),
    );

    r.put("/api/v1/admin/reports/:id", { ...writeReports, params: idParams, body: updateBody, summary: "Update a report" }, async ({ input, caller }) =>
      one(
        caller,
        await reports.changeReport(context.sql, checkedId(input.params.id), {
          kind: "update",
          category: input.body.category,
          ruleIds: input.body.rule_ids?.map(Number),
        }),
      ),
    );

    const actions = {
      assign_to_self: (caller: Caller): reports.ReportChange => ({ kind: "assign", accountId: caller.account!.id }),
      unassign: (): reports.ReportChange => ({ kind: "unassign" }),
      resolve: (caller: Caller): reports.ReportChange => ({ kind: "resolve", accountId: caller.account!.id }),
      reopen: (): reports.ReportChange => ({ kind: "reopen" }),
    };
    for (const [name, change] of Object.entries(actions)) {
      r.post(`/api/v1/admin/reports/:id/${name}`, { ...writeReports, params: idParams, summary: `${name.replace(/_/g, " ")} a report` }, async ({ input, caller }) =>
        one(caller, await reports.changeReport(context.sql, checkedId(input.params.id), change(caller))),
      );
    }
  });
}
