/**
 * /api/v1/admin/accounts and /api/v2/admin/accounts: moderators find accounts and act on them (Mastodon's
 * manage_users permission, which moderators have). Each action answers as Mastodon's does: `action` with
 * an empty object, the one-word endpoints with the account afterwards.
 */
import * as v from "valibot";
import * as admin from "../../../features/admin/service";
import type { AppContext } from "../../../infra/context";
import { ApiError } from "../../../infra/errors";
import { routes } from "../../endpoint";
import { renderAdminAccounts } from "../../entities/admin/account";
import { paginationEntries } from "../../pagination";
import { flag } from "../statuses-input";
import { checkedId, idParams, optionalText, paged } from "./common";

const MODS = { auth: "user" as const, role: "Moderator" as const, tags: ["admin"] };
const readAccounts = { ...MODS, scopes: ["admin:read", "admin:read:accounts"] } as const;
const writeAccounts = { ...MODS, scopes: ["admin:write", "admin:write:accounts"] } as const;

const search = (max: number) => v.optional(v.pipe(v.string(), v.maxLength(max, "is too long")));
const commonFilters = {
  username: search(100),
  display_name: search(100),
  by_domain: search(253),
  email: search(254),
  ip: v.optional(v.pipe(v.string(), v.maxLength(64), v.check((s) => admin.isIpOrCidr(s), "is not an IP address"))),
};
const v1Query = v.object({
  ...paginationEntries,
  ...commonFilters,
  local: v.optional(flag),
  remote: v.optional(flag),
  active: v.optional(flag),
  pending: v.optional(flag),
  disabled: v.optional(flag),
  silenced: v.optional(flag),
  suspended: v.optional(flag),
  sensitized: v.optional(flag),
  staff: v.optional(flag),
});
const STATUSES = ["active", "pending", "disabled", "silenced", "suspended"] as const;
const v2Query = v.object({
  ...paginationEntries,
  ...commonFilters,
  origin: v.optional(v.picklist(["local", "remote"], "must be local or remote")),
  status: v.optional(v.picklist(STATUSES, `must be one of ${STATUSES.join(", ")}`)),
  permissions: v.optional(v.picklist(["staff"], "must be staff")),
});

/** An optional id; null or "" (what forms send for "none") mean absent. */
const idInput = v.pipe(
  v.nullish(v.union([v.string(), v.number()], "is not an id")),
  v.transform((x) => (x === null || x === undefined || x === "" ? undefined : String(x))),
  v.check((s) => s === undefined || admin.isId(s), "is not an id"),
);
const actionBody = v.object({
  type: v.picklist(admin.ACTION_TYPES, `must be one of ${admin.ACTION_TYPES.join(", ")}`),
  text: optionalText(5000),
  report_id: idInput,
  warning_preset_id: idInput,
  // Accepted as Mastodon's; Woolly has no warning e-mail yet, so the strike is recorded either way.
  send_email_notification: v.optional(flag),
});

function v1Filter(q: v.InferOutput<typeof v1Query>): admin.AccountFilter {
  const status = (["pending", "disabled", "silenced", "suspended", "sensitized", "active"] as const).find((s) => q[s] === true);
  return {
    local: q.local === true,
    remote: q.remote === true,
    status,
    staff: q.staff === true,
    username: q.username,
    displayName: q.display_name,
    byDomain: q.by_domain,
    email: q.email,
    ip: q.ip,
  };
}

function v2Filter(q: v.InferOutput<typeof v2Query>): admin.AccountFilter {
  return {
    local: q.origin === "local",
    remote: q.origin === "remote",
    status: q.status,
    staff: q.permissions === "staff",
    username: q.username,
    displayName: q.display_name,
    byDomain: q.by_domain,
    email: q.email,
    ip: q.ip,
  };
}

export function adminAccountRoutes(context: AppContext) {
  const render = async (view: admin.AdminAccountView) => (await renderAdminAccounts(context, [view]))[0]!;
  const list = (filter: admin.AccountFilter, query: v.InferOutput<typeof v1Query> | v.InferOutput<typeof v2Query>, request: Request, set: { headers: Record<string, string | number> }) =>
    paged(context, query, request, set, async (page) => (await admin.listAccounts(context.sql, filter, page)).map((view) => ({ id: view.account.id, view }))).then((rows) =>
      renderAdminAccounts(context, rows.map((row) => row.view)),
    );

  return routes(context, "admin-accounts", (r) => {
    r.get("/api/v1/admin/accounts", { ...readAccounts, query: v1Query, summary: "View accounts (v1)" }, ({ input, request, set }) => list(v1Filter(input.query), input.query, request, set));
    r.get("/api/v2/admin/accounts", { ...readAccounts, query: v2Query, summary: "View accounts (v2)" }, ({ input, request, set }) => list(v2Filter(input.query), input.query, request, set));

    r.get("/api/v1/admin/accounts/:id", { ...readAccounts, params: idParams, summary: "View a specific account" }, async ({ input }) =>
      render(await admin.findAccount(context.sql, checkedId(input.params.id))),
    );

    r.post("/api/v1/admin/accounts/:id/action", { ...writeAccounts, params: idParams, body: actionBody, summary: "Perform a moderation action" }, async ({ input, caller }) => {
      await admin.performAction(context.sql, caller.account!, checkedId(input.params.id), {
        type: input.body.type,
        text: input.body.text ?? "",
        reportId: input.body.report_id,
        warningPresetId: input.body.warning_preset_id,
      });
      return {};
    });

    r.delete("/api/v1/admin/accounts/:id", { ...writeAccounts, params: idParams, summary: "Delete a suspended account's data" }, async ({ input, caller }) =>
      render(await admin.deleteSuspendedAccount(context, caller.account!, checkedId(input.params.id))),
    );

    for (const what of ["approve", "reject", "enable", "unsilence", "unsuspend", "unsensitive"] as const) {
      r.post(`/api/v1/admin/accounts/:id/${what}`, { ...writeAccounts, params: idParams, summary: `${what[0]!.toUpperCase()}${what.slice(1)} an account` }, async ({ input, caller }) => {
        const view = await admin.undo(context.sql, caller.account!, checkedId(input.params.id), what);
        if (!view) throw ApiError.notFound();
        return render(view);
      });
    }
  });
}
