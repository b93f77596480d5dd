/**
 * Interactions with a status (Mastodon's Api::V1::Statuses::{Reblogs,Favourites,Bookmarks,Pins,Mutes}
 * controllers, reblogged_by / favourited_by) and the signed-in user's favourites and bookmarks lists.
 * Every action answers with the Status entity, its per-viewer flags already updated.
 */
import * as v from "valibot";
import { findVisibleAccounts, type LocalAccountRow } from "../../features/accounts/service";
import * as interactions from "../../features/interactions/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderAccountsWithMoved } from "../entities/account";
import { renderStatus, renderStatuses } from "../entities/status";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";

const idParams = v.object({ id: v.string() });
const pageQuery = v.object(paginationEntries);
const reblogBody = v.object({
  visibility: v.optional(v.picklist(["public", "unlisted", "private"], "must be public, unlisted or private")),
});

type Action = (context: AppContext, actor: LocalAccountRow, statusId: string) => Promise<string>;

/** The write actions: path suffix, scopes, service call (returns the id of the status to render). */
const ACTIONS: [string, readonly string[], Action][] = [
  ["unreblog", ["write", "write:statuses"], interactions.unreblogStatus],
  ["favourite", ["write", "write:favourites"], interactions.favouriteStatus],
  ["unfavourite", ["write", "write:favourites"], interactions.unfavouriteStatus],
  ["bookmark", ["write", "write:bookmarks"], interactions.bookmarkStatus],
  ["unbookmark", ["write", "write:bookmarks"], interactions.unbookmarkStatus],
  ["pin", ["write", "write:accounts"], interactions.pinStatus],
  ["unpin", ["write", "write:accounts"], interactions.unpinStatus],
  ["mute", ["write", "write:mutes"], interactions.muteConversation],
  ["unmute", ["write", "write:mutes"], interactions.unmuteConversation],
];

export function interactionRoutes(context: AppContext) {
  return routes(context, "interactions", (r) => {
    r.post(
      "/api/v1/statuses/:id/reblog",
      { auth: "user", scopes: ["write", "write:statuses"], params: idParams, body: reblogBody, summary: "Boost a status", tags: ["statuses"] },
      async ({ input, caller }) => {
        const actor = caller.account!;
        const { reblogId } = await interactions.reblogStatus(context, actor, input.params.id, {
          visibility: input.body.visibility,
          applicationId: caller.token.application_id,
        });
        return renderStatus(context, actor, reblogId);
      },
    );

    for (const [name, scopes, action] of ACTIONS) {
      r.post(`/api/v1/statuses/:id/${name}`, { auth: "user", scopes, params: idParams, tags: ["statuses"] }, async ({ input, caller }) => {
        const actor = caller.account!;
        return renderStatus(context, actor, await action(context, actor, input.params.id));
      });
    }

    for (const [path, kind] of [["reblogged_by", "reblogs"], ["favourited_by", "favourites"]] as const) {
      r.get(
        `/api/v1/statuses/:id/${path}`,
        { auth: "optional", scopes: ["read", "read:accounts"], params: idParams, query: pageQuery, tags: ["statuses"] },
        async ({ input, caller, request, set }) => {
          const page = pageParams(input.query, 40, 80);
          const rows = inDisplayOrder(
            await interactions.listInteractors(context, caller?.account?.id, kind, input.params.id, pageWhere(context.sql, context.sql`m.id`, page)),
            page,
          );
          const link = linkHeader(request.url, context.config.baseUrl, rows.map((row) => row.id));
          if (link) set.headers.link = link;
          const accounts = await findVisibleAccounts(context.sql, rows.map((row) => row.account_id));
          return renderAccountsWithMoved(context, accounts);
        },
      );
    }

    for (const [path, list, scopes] of [
      ["/api/v1/favourites", interactions.listFavourites, ["read", "read:favourites"]],
      ["/api/v1/bookmarks", interactions.listBookmarks, ["read", "read:bookmarks"]],
    ] as const) {
      r.get(path, { auth: "user", scopes, query: pageQuery, tags: ["statuses"] }, async ({ input, caller, request, set }) => {
        const viewer = caller.account!;
        const page = pageParams(input.query, 20, 40);
        const rows = inDisplayOrder(await list(context.sql, viewer.id, pageWhere(context.sql, context.sql`m.id`, page)), page);
        // Cursors are the favourite / bookmark row ids, as Mastodon's Link header for these lists.
        const link = linkHeader(request.url, context.config.baseUrl, rows.map((row) => row.id));
        if (link) set.headers.link = link;
        return renderStatuses(context, viewer, rows.map((row) => row.status_id));
      });
    }
  });
}
