/**
 * POST /api/v1/reports: report an account (and some of its posts) to the moderators. Input shapes only here;
 * the reports feature applies Mastodon's rules (statuses must be the account's, rules only with `violation`).
 */
import * as v from "valibot";
import { findVisibleAccount } from "../../features/accounts/service";
import { createReport, REPORT_CATEGORIES, REPORT_LIMITS } from "../../features/reports/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { addMoved } from "../entities/account";
import { renderReport } from "../entities/report";
import { flag, idList } from "./statuses-input";

const opt = <S extends v.GenericSchema>(schema: S) => v.pipe(v.nullish(schema), v.transform((value) => value ?? undefined));

const reportBody = v.object({
  account_id: v.pipe(v.union([v.string(), v.number()], "must be an id"), v.transform(String), v.maxLength(40, "is not an id")),
  status_ids: opt(idList(REPORT_LIMITS.statuses)),
  // Far above the limit: the feature answers with Mastodon's own message for a comment that is too long.
  comment: opt(v.pipe(v.string("must be a string"), v.maxLength(100_000, "is too long"))),
  forward: opt(flag),
  category: opt(v.picklist(REPORT_CATEGORIES, `must be one of ${REPORT_CATEGORIES.join(", ")}`)),
  rule_ids: opt(idList(REPORT_LIMITS.rules)),
  // Accepted and ignored: Mastodon also forwards to the servers of replied-to accounts named here; we forward
  // to the reported account's server only.
  forward_to_domains: opt(v.pipe(v.union([v.string(), v.array(v.string())]), v.transform((d) => (Array.isArray(d) ? d : [d])), v.maxLength(50))),
});

export function reportRoutes(context: AppContext) {
  return routes(context, "reports", (r) => {
    r.post("/api/v1/reports", { auth: "user", scopes: ["write", "write:reports"], body: reportBody, tags: ["reports"], summary: "File a report" }, async ({ input, caller }) => {
      const body = input.body;
      const report = await createReport(context, caller.account!, {
        accountId: body.account_id,
        statusIds: body.status_ids ?? [],
        comment: body.comment ?? "",
        forward: body.forward ?? false,
        category: body.category,
        ruleIds: body.rule_ids ?? [],
      });
      const target = await findVisibleAccount(context.sql, report.target_account_id);
      if (!target) throw ApiError.notFound();
      const entity = renderReport(context.config, report, target);
      await addMoved(context, [target], [entity.target_account]);
      return entity;
    });
  });
}
