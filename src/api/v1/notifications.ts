/**
 * /api/v1/notifications: the list (types[], exclude_types[], account_id, include_filtered), one by id,
 * dismiss, clear, unread_count (since the notifications marker). Requests are in notification-requests.ts. Pages are by notification id with Mastodon's Link header.
 */
import * as v from "valibot";
import { notificationsReadUpTo } from "../../features/markers/service";
import * as notifications from "../../features/notifications/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { filterNotifications } from "../filtering";
import { renderNotifications } from "../entities/notification";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";

const ID = /^\d{1,19}$/;
const isId = (value: string | undefined): value is string => value !== undefined && ID.test(value) && BigInt(value) <= 9223372036854775807n;

/** `a[]=x&a[]=y`, `a=x` or a JSON list: always a short list of short strings. */
export const stringList = v.pipe(
  v.union([v.pipe(v.string(), v.maxLength(100)), v.array(v.pipe(v.string(), v.maxLength(100)))], "must be a list of strings"),
  v.transform((value) => (Array.isArray(value) ? value : [value])),
  v.maxLength(50, "has too many entries"),
);

const TRUE = ["true", "1", "on", "t", "yes"];
export const flagParam = v.pipe(
  v.union([v.boolean(), v.string()], "must be true or false"),
  v.transform((value) => value === true || (typeof value === "string" && TRUE.includes(value.trim().toLowerCase()))),
);

export const filterEntries = {
  types: v.optional(stringList),
  exclude_types: v.optional(stringList),
  account_id: v.optional(v.pipe(v.string(), v.maxLength(30))),
  include_filtered: v.optional(flagParam),
};

/** The list filter from validated query parameters; an account id that cannot exist matches nothing. */
export function listFilter(query: { types?: string[]; exclude_types?: string[]; account_id?: string; include_filtered?: boolean }): notifications.ListFilter | undefined {
  if (query.account_id !== undefined && query.account_id !== "" && !isId(query.account_id)) return undefined;
  return {
    types: query.types?.filter((t) => t !== ""),
    excludeTypes: query.exclude_types?.filter((t) => t !== ""),
    fromAccountId: query.account_id || undefined,
    includeFiltered: query.include_filtered === true,
  };
}

const listQuery = v.object({ ...paginationEntries, ...filterEntries });
const unreadQuery = v.object({ ...filterEntries, limit: v.optional(v.string()) });
const idParams = v.object({ id: v.string() });

const V1_POLICY_KEYS = [
  ["filter_not_following", "for_not_following"],
  ["filter_not_followers", "for_not_followers"],
  ["filter_new_accounts", "for_new_accounts"],
  ["filter_private_mentions", "for_private_mentions"],
] as const;
const v1PolicyBody = v.object(Object.fromEntries(V1_POLICY_KEYS.map(([flag]) => [flag, v.optional(flagParam)])) as Record<(typeof V1_POLICY_KEYS)[number][0], v.OptionalSchema<typeof flagParam, undefined>>);

const READ = ["read", "read:notifications"] as const;
const WRITE = ["write", "write:notifications"] as const;

/** unread_count's `limit`: default 100, at most 1000 (Mastodon's DEFAULT/MAX for this count). */
export function unreadCap(limit: string | undefined): number {
  if (limit === undefined || limit === "") return 100;
  if (!/^\d{1,9}$/.test(limit)) throw ApiError.badRequest("limit must be a number");
  return Math.min(Math.max(Number(limit), 1), 1000);
}

export function notificationRoutes(context: AppContext) {
  return routes(context, "notifications", (r) => {
    r.get("/api/v1/notifications", { auth: "user", scopes: READ, query: listQuery, tags: ["notifications"] }, async ({ input, caller, request, set }) => {
      const viewer = caller.account!;
      const page = pageParams(input.query, 40, 80);
      const filter = listFilter(input.query);
      if (!filter) return [];
      const rows = inDisplayOrder(await notifications.listNotifications(context.sql, viewer.id, filter, pageWhere(context.sql, context.sql`n.id`, page)), page);
      const link = linkHeader(request.url, context.config.baseUrl, rows.map((n) => n.id));
      if (link) set.headers.link = link;
      return filterNotifications(context, viewer, await renderNotifications(context, viewer, rows));
    });

    r.get("/api/v1/notifications/unread_count", { auth: "user", scopes: READ, query: unreadQuery, tags: ["notifications"] }, async ({ input, caller }) => {
      const viewer = caller.account!;
      const filter = listFilter(input.query);
      if (!filter) return { count: 0 };
      const after = await notificationsReadUpTo(context.sql, viewer.id);
      return { count: await notifications.countUnread(context.sql, viewer.id, after, filter, unreadCap(input.query.limit)) };
    });

    r.post("/api/v1/notifications/clear", { auth: "user", scopes: WRITE, tags: ["notifications"] }, async ({ caller }) => {
      await notifications.clearNotifications(context.sql, caller.account!.id);
      return {};
    });

    // The v1 policy (Mastodon 4.3's first form): booleans over the same stored policy; true means "not accepted".
    const v1Policy = async (accountId: string) => {
      const [policy, summary] = await Promise.all([notifications.getPolicy(context.sql, accountId), notifications.filteredSummary(context.sql, accountId)]);
      return {
        filter_not_following: policy.for_not_following !== "accept",
        filter_not_followers: policy.for_not_followers !== "accept",
        filter_new_accounts: policy.for_new_accounts !== "accept",
        filter_private_mentions: policy.for_private_mentions !== "accept",
        summary: { pending_requests_count: summary.requests, pending_notifications_count: summary.notifications },
      };
    };
    r.get("/api/v1/notifications/policy", { auth: "user", scopes: READ, tags: ["notifications"] }, ({ caller }) => v1Policy(caller.account!.id));
    r.put("/api/v1/notifications/policy", { auth: "user", scopes: WRITE, body: v1PolicyBody, tags: ["notifications"] }, async ({ input, caller }) => {
      const changes: Partial<notifications.Policy> = {};
      for (const [flag, key] of V1_POLICY_KEYS) {
        const value = input.body[flag];
        if (value !== undefined) changes[key] = value ? "filter" : "accept";
      }
      await notifications.updatePolicy(context.sql, caller.account!.id, changes);
      return v1Policy(caller.account!.id);
    });

    r.get("/api/v1/notifications/:id", { auth: "user", scopes: READ, params: idParams, tags: ["notifications"] }, async ({ input, caller }) => {
      const viewer = caller.account!;
      if (!isId(input.params.id)) throw ApiError.notFound();
      const row = await notifications.findNotification(context.sql, viewer.id, input.params.id);
      const [entity] = row ? await filterNotifications(context, viewer, await renderNotifications(context, viewer, [row])) : [];
      if (!entity) throw ApiError.notFound();
      return entity;
    });

    r.post("/api/v1/notifications/:id/dismiss", { auth: "user", scopes: WRITE, params: idParams, tags: ["notifications"] }, async ({ input, caller }) => {
      if (!isId(input.params.id)) throw ApiError.notFound();
      const viewer = caller.account!;
      if (!(await notifications.findNotification(context.sql, viewer.id, input.params.id))) throw ApiError.notFound();
      await notifications.dismissNotification(context.sql, viewer.id, input.params.id);
      return {};
    });
  });
}
