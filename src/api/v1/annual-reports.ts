/**
 * Annual reports ("Wrapstodon", Mastodon 4.3+). Woolly does not generate them; Phanpy asks on start, so the
 * routes answer what Mastodon answers for an account with no report: empty lists, state "ineligible", and
 * 404 for reading or generating a report that does not exist.
 */
import * as v from "valibot";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";

const READ = ["read", "read:accounts"] as const;
const WRITE = ["write", "write:accounts"] as const;
const tags = ["annual_reports"];
const yearParams = v.object({ year: v.pipe(v.string(), v.regex(/^\d{4}$/, "is not a year")) });
const EMPTY = () => ({ annual_reports: [], accounts: [], statuses: [] });

export function annualReportRoutes(context: AppContext) {
  return routes(context, "annual-reports", (r) => {
    r.get("/api/v1/annual_reports", { auth: "user", scopes: READ, summary: "List annual reports", tags }, EMPTY);
    r.get("/api/v1/annual_reports/:year", { auth: "user", scopes: READ, params: yearParams, summary: "View an annual report", tags }, EMPTY);
    r.get("/api/v1/annual_reports/:year/state", { auth: "user", scopes: READ, params: yearParams, summary: "Annual report state", tags }, () => ({
      state: "ineligible",
    }));
    for (const action of ["read", "generate"]) {
      r.post(`/api/v1/annual_reports/:year/${action}`, { auth: "user", scopes: WRITE, params: yearParams, summary: `Annual report: ${action}`, tags }, () => {
        throw ApiError.notFound();
      });
    }
  });
}
