/**
 * /api/v1/notifications/requests: notifications the policy filtered, one request per sender (Mastodon 4.3+).
 * Accepting lets the sender through from then on and releases what was held; dismissing drops what was
 * held. A request's id is the id of its newest filtered notification, which is also its page cursor.
 */
import * as v from "valibot";
import * as notifications from "../../features/notifications/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { renderRequests } from "../entities/notification";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";
import { stringList } from "./notifications";

const ID = /^\d{1,19}$/;
const isId = (value: string): boolean => ID.test(value) && BigInt(value) <= 9223372036854775807n;

const idParams = v.object({ id: v.string() });
const bulkBody = v.object({ id: stringList });

const READ = ["read", "read:notifications"] as const;
const WRITE = ["write", "write:notifications"] as const;

export function notificationRequestRoutes(context: AppContext) {
  return routes(context, "notification-requests", (r) => {
    r.get("/api/v1/notifications/requests", { auth: "user", scopes: READ, query: v.object(paginationEntries), tags: ["notifications"] }, async ({ input, caller, request, set }) => {
      const viewer = caller.account!;
      const page = pageParams(input.query, 40, 80);
      const rows = inDisplayOrder(await notifications.listRequests(context.sql, viewer.id, pageWhere(context.sql, context.sql`max(n.id)`, page)), page);
      const link = linkHeader(request.url, context.config.baseUrl, rows.map((row) => row.id));
      if (link) set.headers.link = link;
      return renderRequests(context, viewer, rows);
    });

    // Filtered notifications are never merged into the main list behind the user's back: always done.
    r.get("/api/v1/notifications/requests/merged", { auth: "user", scopes: READ, tags: ["notifications"] }, () => ({ merged: true }));

    for (const action of ["accept", "dismiss"] as const) {
      r.post(`/api/v1/notifications/requests/${action}`, { auth: "user", scopes: WRITE, body: bulkBody, tags: ["notifications"] }, async ({ input, caller }) => {
        const settled = await notifications.settleRequests(context.sql, caller.account!.id, input.body.id.filter(isId), action);
        if (settled > 0 && action === "accept") await notifications.announceMerged(context, caller.account!.id);
        return {};
      });
      r.post(`/api/v1/notifications/requests/:id/${action}`, { auth: "user", scopes: WRITE, params: idParams, tags: ["notifications"] }, async ({ input, caller }) => {
        if (!isId(input.params.id)) throw ApiError.notFound();
        if ((await notifications.settleRequests(context.sql, caller.account!.id, [input.params.id], action)) === 0) throw ApiError.notFound();
        if (action === "accept") await notifications.announceMerged(context, caller.account!.id);
        return {};
      });
    }

    r.get("/api/v1/notifications/requests/:id", { auth: "user", scopes: READ, params: idParams, tags: ["notifications"] }, async ({ input, caller }) => {
      const viewer = caller.account!;
      if (!isId(input.params.id)) throw ApiError.notFound();
      const sender = await notifications.requestSender(context.sql, viewer.id, input.params.id);
      const row = sender ? await notifications.findRequest(context.sql, viewer.id, sender) : undefined;
      const [entity] = row ? await renderRequests(context, viewer, [row]) : [];
      if (!entity) throw ApiError.notFound();
      return entity;
    });
  });
}
