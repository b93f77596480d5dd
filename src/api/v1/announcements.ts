/**
 * Announcements: GET /api/v1/announcements (active ones; `with_dismissed`), POST /api/v1/announcements/:id/dismiss,
 * PUT / DELETE /api/v1/announcements/:id/reactions/:name. The operator creates them with
 * `woolly admin announcements create`.
 */
import * as v from "valibot";
import * as announcements from "../../features/announcements/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderAnnouncement } from "../entities/announcement";
import { flag, idParams } from "./graph";

const reactionParams = v.object({ id: v.string(), name: v.pipe(v.string(), v.maxLength(100, "is too long")) });
const TAGS = ["announcements"];

export function announcementRoutes(context: AppContext) {
  return routes(context, "announcements", (r) => {
    r.get(
      "/api/v1/announcements",
      { auth: "user", scopes: ["read"], query: v.object({ with_dismissed: v.optional(flag) }), summary: "View all announcements", tags: TAGS },
      async ({ input, caller }) => {
        const viewer = caller.account!;
        const rows = await announcements.activeAnnouncements(context.sql, viewer.id, input.query.with_dismissed ?? false);
        const reactions = await announcements.reactionsOf(context.sql, rows.map((row) => row.id), viewer.id);
        return rows.map((row) => renderAnnouncement(row, reactions, true));
      },
    );

    r.post("/api/v1/announcements/:id/dismiss", { auth: "user", scopes: ["write", "write:accounts"], params: idParams, summary: "Dismiss an announcement", tags: TAGS }, async ({ input, caller }) => {
      await announcements.dismiss(context.sql, caller.account!.id, input.params.id);
      return {};
    });

    r.put("/api/v1/announcements/:id/reactions/:name", { auth: "user", scopes: ["write", "write:favourites"], params: reactionParams, summary: "Add a reaction to an announcement", tags: TAGS }, async ({ input, caller }) => {
      await announcements.react(context, caller.account!.id, input.params.id, decodeName(input.params.name));
      return {};
    });

    r.delete("/api/v1/announcements/:id/reactions/:name", { auth: "user", scopes: ["write", "write:favourites"], params: reactionParams, summary: "Remove a reaction from an announcement", tags: TAGS }, async ({ input, caller }) => {
      await announcements.unreact(context, caller.account!.id, input.params.id, decodeName(input.params.name));
      return {};
    });
  });
}

/** Path parameters may arrive percent-encoded (an emoji in a URL); a malformed escape is kept as typed. */
function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
