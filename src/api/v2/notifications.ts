/**
 * /api/v2/notifications: grouped notifications as Mastodon 4.3+ serves them (GroupedNotificationsResults),
 * one group, dismissing a group, its accounts, the unread group count, and the notification policy.
 * A page holds `limit` groups; its Link header cursors are notification ids (the page's id range).
 */
import * as v from "valibot";
import { findVisibleAccounts } from "../../features/accounts/service";
import { notificationsReadUpTo } from "../../features/markers/service";
import * as notifications from "../../features/notifications/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { filterGroups } from "../filtering";
import { renderAccountsWithMoved } from "../entities/account";
import { renderGroups } from "../entities/notification";
import { linkHeader, pageParams, paginationEntries } from "../pagination";
import { filterEntries, listFilter, stringList, unreadCap } from "../v1/notifications";

const groupingEntries = {
  grouped_types: v.optional(stringList),
  // full | partial_avatars: every account is sent in full either way, which clients accept.
  expand_accounts: v.optional(v.pipe(v.string(), v.maxLength(40))),
};
const listQuery = v.object({ ...paginationEntries, ...filterEntries, ...groupingEntries });
const unreadQuery = v.object({ ...filterEntries, ...groupingEntries, limit: v.optional(v.string()) });
const groupParams = v.object({ group_key: v.pipe(v.string(), v.maxLength(200)) });

const action = v.picklist(["accept", "filter", "drop"], "must be accept, filter or drop");
const policyBody = v.object(Object.fromEntries(notifications.POLICY_KEYS.map((key) => [key, v.optional(action)])) as Record<notifications.PolicyKey, v.OptionalSchema<typeof action, undefined>>);

const READ = ["read", "read:notifications"] as const;
const WRITE = ["write", "write:notifications"] as const;

function groupedTypes(query: { grouped_types?: string[] }): string[] {
  return query.grouped_types ? query.grouped_types.filter((t) => t !== "") : notifications.DEFAULT_GROUPED_TYPES;
}

export function notificationV2Routes(context: AppContext) {
  const renderPolicy = async (accountId: string) => {
    const [policy, summary] = await Promise.all([notifications.getPolicy(context.sql, accountId), notifications.filteredSummary(context.sql, accountId)]);
    return { ...policy, summary: { pending_requests_count: summary.requests, pending_notifications_count: summary.notifications } };
  };

  return routes(context, "notifications-v2", (r) => {
    r.get("/api/v2/notifications", { auth: "user", scopes: READ, query: listQuery, tags: ["notifications"] }, async ({ input, caller, request, set }) => {
      const viewer = caller.account!;
      const page = pageParams(input.query, 40, 80);
      const filter = listFilter(input.query);
      const empty = { accounts: [], statuses: [], notification_groups: [] };
      if (!filter) return empty;
      const grouped = groupedTypes(input.query);
      const found = await notifications.pageGroupKeys(context.sql, viewer.id, filter, grouped, page);
      if (!found) return empty;
      const rows = await notifications.loadGroups(context.sql, viewer.id, filter, grouped, found.keys, found);
      rows.sort((a, b) => (BigInt(b.page_max_id ?? b.most_recent_notification_id) > BigInt(a.page_max_id ?? a.most_recent_notification_id) ? 1 : -1));
      const link = linkHeader(request.url, context.config.baseUrl, [found.upper, found.lower]);
      if (link) set.headers.link = link;
      return filterGroups(context, viewer, await renderGroups(context, viewer, rows, true));
    });

    r.get("/api/v2/notifications/unread_count", { auth: "user", scopes: READ, query: unreadQuery, tags: ["notifications"] }, async ({ input, caller }) => {
      const viewer = caller.account!;
      const filter = listFilter(input.query);
      if (!filter) return { count: 0 };
      const after = await notificationsReadUpTo(context.sql, viewer.id);
      return { count: await notifications.countUnreadGroups(context.sql, viewer.id, after, filter, groupedTypes(input.query), unreadCap(input.query.limit)) };
    });

    r.get("/api/v2/notifications/policy", { auth: "user", scopes: READ, tags: ["notifications"] }, ({ caller }) => renderPolicy(caller.account!.id));
    r.patch("/api/v2/notifications/policy", { auth: "user", scopes: WRITE, body: policyBody, tags: ["notifications"] }, async ({ input, caller }) => {
      await notifications.updatePolicy(context.sql, caller.account!.id, input.body as Partial<notifications.Policy>);
      return renderPolicy(caller.account!.id);
    });

    const findGroup = async (accountId: string, groupKey: string) => {
      // A key is looked up among all types grouped, so any key the list handed out resolves.
      // ("ungrouped-<id>" names one notification whatever its type.)
      const grouped = groupKey.startsWith("ungrouped-") ? [] : [...notifications.NOTIFICATION_TYPES];
      const [row] = await notifications.loadGroups(context.sql, accountId, { includeFiltered: true }, grouped, [groupKey]);
      if (!row) throw ApiError.notFound();
      return row;
    };

    r.get("/api/v2/notifications/:group_key", { auth: "user", scopes: READ, params: groupParams, tags: ["notifications"] }, async ({ input, caller }) => {
      const viewer = caller.account!;
      const result = await filterGroups(context, viewer, await renderGroups(context, viewer, [await findGroup(viewer.id, input.params.group_key)], false));
      if (result.notification_groups.length === 0) throw ApiError.notFound();
      return result;
    });

    r.get("/api/v2/notifications/:group_key/accounts", { auth: "user", scopes: READ, params: groupParams, tags: ["notifications"] }, async ({ input, caller }) => {
      const group = await findGroup(caller.account!.id, input.params.group_key);
      const accounts = await findVisibleAccounts(context.sql, [...new Set(group.account_ids)]);
      return renderAccountsWithMoved(context, accounts);
    });

    r.post("/api/v2/notifications/:group_key/dismiss", { auth: "user", scopes: WRITE, params: groupParams, tags: ["notifications"] }, async ({ input, caller }) => {
      await notifications.dismissGroup(context.sql, caller.account!.id, input.params.group_key);
      return {};
    });
  });
}
