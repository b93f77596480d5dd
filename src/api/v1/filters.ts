/**
 * Filters v1 (deprecated, still used by Tusky and megalodon): /api/v1/filters CRUD. A v1 filter is one
 * keyword of a v2 filter, as Mastodon maps them: `irreversible` is the `hide` action, `phrase` the keyword.
 */
import * as v from "valibot";
import * as filters from "../../features/filters/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderV1Filter } from "../entities/filter";
import { contextList, expiresIn, keywordString } from "../v2/filters";
import { flag, idParams } from "./graph";

const READ = ["read", "read:filters"] as const;
const WRITE = ["write", "write:filters"] as const;
const TAGS = ["filters"];

const body = v.object({
  phrase: v.optional(keywordString),
  context: v.optional(contextList),
  irreversible: v.optional(flag),
  whole_word: v.optional(flag),
  expires_in: v.optional(expiresIn),
});

export function filterV1Routes(context: AppContext) {
  return routes(context, "filters-v1", (r) => {
    r.get("/api/v1/filters", { auth: "user", scopes: READ, summary: "View your filters (v1)", tags: TAGS }, async ({ caller }) =>
      (await filters.listV1(context.sql, caller.account!.id)).map(renderV1Filter),
    );
    r.post("/api/v1/filters", { auth: "user", scopes: WRITE, body, summary: "Create a filter (v1)", tags: TAGS }, async ({ input, caller }) =>
      renderV1Filter(await filters.createV1(context, caller.account!.id, input.body)),
    );
    r.get("/api/v1/filters/:id", { auth: "user", scopes: READ, params: idParams, summary: "View a single filter (v1)", tags: TAGS }, async ({ input, caller }) =>
      renderV1Filter(await filters.findV1(context.sql, caller.account!.id, input.params.id)),
    );
    r.put("/api/v1/filters/:id", { auth: "user", scopes: WRITE, params: idParams, body, summary: "Update a filter (v1)", tags: TAGS }, async ({ input, caller }) =>
      renderV1Filter(await filters.updateV1(context, caller.account!.id, input.params.id, input.body)),
    );
    r.delete("/api/v1/filters/:id", { auth: "user", scopes: WRITE, params: idParams, summary: "Remove a filter (v1)", tags: TAGS }, async ({ input, caller }) => {
      await filters.deleteV1(context, caller.account!.id, input.params.id);
      return {};
    });
  });
}
