/**
 * Direct-message conversations: GET /api/v1/conversations (paged by the latest status id, Link header),
 * POST /api/v1/conversations/:id/read, POST /api/v1/conversations/:id/unread, DELETE /api/v1/conversations/:id
 * (removes it from the caller's list only; the statuses stay).
 */
import * as v from "valibot";
import * as conversations from "../../features/conversations/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderConversations } from "../entities/conversation";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";
import { idParams } from "./graph";

const READ = ["read", "read:statuses"] as const;
const WRITE = ["write", "write:conversations"] as const;
const TAGS = ["conversations"];

export function conversationRoutes(context: AppContext) {
  return routes(context, "conversations", (r) => {
    r.get("/api/v1/conversations", { auth: "user", scopes: READ, query: v.object(paginationEntries), summary: "View all conversations", tags: TAGS }, async ({ input, caller, request, set }) => {
      const viewer = caller.account!;
      const page = pageParams(input.query, 20, 40);
      const rows = inDisplayOrder(await conversations.conversationPage(context.sql, viewer.id, pageWhere(context.sql, context.sql`c.last_status_id`, page)), page);
      const link = linkHeader(request.url, context.config.baseUrl, rows.map((row) => String(row.last_status_id)));
      if (link) set.headers.link = link;
      return renderConversations(context, viewer, rows);
    });

    for (const [action, unread] of [["read", false], ["unread", true]] as const) {
      r.post(`/api/v1/conversations/:id/${action}`, { auth: "user", scopes: WRITE, params: idParams, summary: `Mark a conversation as ${action}`, tags: TAGS }, async ({ input, caller }) => {
        const viewer = caller.account!;
        const row = await conversations.markRead(context.sql, viewer.id, input.params.id, unread);
        return (await renderConversations(context, viewer, [row]))[0];
      });
    }

    r.delete("/api/v1/conversations/:id", { auth: "user", scopes: WRITE, params: idParams, summary: "Remove a conversation", tags: TAGS }, async ({ input, caller }) => {
      await conversations.removeConversation(context.sql, caller.account!.id, input.params.id);
      return {};
    });
  });
}
