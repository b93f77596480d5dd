/**
 * Filters v2: /api/v2/filters CRUD, keywords (/api/v2/filters/:id/keywords, /api/v2/filters/keywords/:id)
 * and statuses (/api/v2/filters/:id/statuses, /api/v2/filters/statuses/:id). `/api/v2/filter_keywords/:id`
 * and `/api/v2/filter_statuses/:id` answer the same. The rules are in features/filters/service.ts; they are
 * applied to timelines through api/filtering.ts.
 */
import * as v from "valibot";
import * as filters from "../../features/filters/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderFilter, renderFilterStatus, renderKeyword } from "../entities/filter";
import { flag, idParams } from "../v1/graph";

// Input shapes shared with the v1 routes: Rails-style lists and nested attributes as clients send them
// (JSON arrays, `context[]=home`, `keywords_attributes[0][keyword]=…` or `keywords_attributes[][keyword]=…`).
const shortString = (max: number) => v.pipe(v.string(), v.maxLength(max, "is too long"));

/** `context[]=home&context[]=public`, `context=home` or a JSON list. */
export const contextList = v.pipe(
  v.union([shortString(40), v.array(shortString(40))], "must be a list of contexts"),
  v.transform((value) => (Array.isArray(value) ? value : [value])),
  v.maxLength(10, "has too many contexts"),
);

/** Seconds, as a number or a numeric string; "" or null clears. */
export const expiresIn = v.pipe(
  v.union([v.null(), v.number(), v.pipe(v.string(), v.maxLength(20))], "must be a number of seconds"),
  v.transform((value) => (value === null || value === "" ? null : Number(value))),
  v.check((value) => value === null || Number.isFinite(value), "must be a number of seconds"),
);

const keywordAttributes = v.object({
  id: v.optional(v.union([shortString(30), v.pipe(v.number(), v.transform(String))])),
  keyword: v.optional(shortString(10_000)),
  whole_word: v.optional(flag),
  _destroy: v.optional(flag),
});

/** A JSON list, or Rails' hash keyed by index (`keywords_attributes[0][keyword]`). */
export const keywordsAttributes = v.pipe(
  v.union([v.array(keywordAttributes), v.record(v.pipe(v.string(), v.maxLength(10)), keywordAttributes)], "must be a list of keywords"),
  v.transform((value) => (Array.isArray(value) ? value : Object.values(value))),
  v.maxLength(300, "has too many keywords"),
);

export const titleString = shortString(10_000);
export const keywordString = shortString(10_000);

const READ = ["read", "read:filters"] as const;
const WRITE = ["write", "write:filters"] as const;
const TAGS = ["filters"];

const filterBody = v.object({
  title: v.optional(titleString),
  context: v.optional(contextList),
  filter_action: v.optional(v.pipe(v.string(), v.maxLength(20, "is too long"))),
  expires_in: v.optional(expiresIn),
  keywords_attributes: v.optional(keywordsAttributes),
});
const keywordBody = v.object({ keyword: v.optional(keywordString), whole_word: v.optional(flag) });
const statusBody = v.object({ status_id: v.optional(v.pipe(v.string(), v.maxLength(30, "is too long"))) });

export function filterV2Routes(context: AppContext) {
  return routes(context, "filters-v2", (r) => {
    r.get("/api/v2/filters", { auth: "user", scopes: READ, summary: "View all filters", tags: TAGS }, async ({ caller }) =>
      (await filters.listFilters(context.sql, caller.account!.id)).map(renderFilter),
    );
    r.post("/api/v2/filters", { auth: "user", scopes: WRITE, body: filterBody, summary: "Create a filter", tags: TAGS }, async ({ input, caller }) =>
      renderFilter(await filters.createFilter(context, caller.account!.id, input.body)),
    );

    // Keyword and status rows by their own id (registered before /:id so the static segment wins).
    for (const path of ["/api/v2/filters/keywords/:id", "/api/v2/filter_keywords/:id"]) {
      r.get(path, { auth: "user", scopes: READ, params: idParams, summary: "View a single keyword", tags: TAGS }, async ({ input, caller }) =>
        renderKeyword(await filters.findKeyword(context.sql, caller.account!.id, input.params.id)),
      );
      r.put(path, { auth: "user", scopes: WRITE, params: idParams, body: keywordBody, summary: "Edit a keyword within a filter", tags: TAGS }, async ({ input, caller }) =>
        renderKeyword(await filters.updateKeyword(context, caller.account!.id, input.params.id, input.body)),
      );
      r.delete(path, { auth: "user", scopes: WRITE, params: idParams, summary: "Remove keywords from a filter", tags: TAGS }, async ({ input, caller }) => {
        await filters.deleteKeyword(context, caller.account!.id, input.params.id);
        return {};
      });
    }
    for (const path of ["/api/v2/filters/statuses/:id", "/api/v2/filter_statuses/:id"]) {
      r.get(path, { auth: "user", scopes: READ, params: idParams, summary: "View a single status filter", tags: TAGS }, async ({ input, caller }) =>
        renderFilterStatus(await filters.findFilterStatus(context.sql, caller.account!.id, input.params.id)),
      );
      r.delete(path, { auth: "user", scopes: WRITE, params: idParams, summary: "Remove a status from a filter group", tags: TAGS }, async ({ input, caller }) => {
        await filters.deleteFilterStatus(context, caller.account!.id, input.params.id);
        return {};
      });
    }

    r.get("/api/v2/filters/:id", { auth: "user", scopes: READ, params: idParams, summary: "View a specific filter", tags: TAGS }, async ({ input, caller }) =>
      renderFilter(await filters.findFilter(context.sql, caller.account!.id, input.params.id)),
    );
    r.put("/api/v2/filters/:id", { auth: "user", scopes: WRITE, params: idParams, body: filterBody, summary: "Update a filter", tags: TAGS }, async ({ input, caller }) =>
      renderFilter(await filters.updateFilter(context, caller.account!.id, input.params.id, input.body)),
    );
    r.delete("/api/v2/filters/:id", { auth: "user", scopes: WRITE, params: idParams, summary: "Delete a filter", tags: TAGS }, async ({ input, caller }) => {
      await filters.deleteFilter(context, caller.account!.id, input.params.id);
      return {};
    });

    r.get("/api/v2/filters/:id/keywords", { auth: "user", scopes: READ, params: idParams, summary: "View keywords added to a filter", tags: TAGS }, async ({ input, caller }) =>
      (await filters.findFilter(context.sql, caller.account!.id, input.params.id)).keywords.map(renderKeyword),
    );
    r.post("/api/v2/filters/:id/keywords", { auth: "user", scopes: WRITE, params: idParams, body: keywordBody, summary: "Add a keyword to a filter", tags: TAGS }, async ({ input, caller }) =>
      renderKeyword(await filters.addKeyword(context, caller.account!.id, input.params.id, input.body)),
    );
    r.get("/api/v2/filters/:id/statuses", { auth: "user", scopes: READ, params: idParams, summary: "View all status filters", tags: TAGS }, async ({ input, caller }) =>
      (await filters.findFilter(context.sql, caller.account!.id, input.params.id)).statuses.map(renderFilterStatus),
    );
    r.post("/api/v2/filters/:id/statuses", { auth: "user", scopes: WRITE, params: idParams, body: statusBody, summary: "Add a status to a filter group", tags: TAGS }, async ({ input, caller }) =>
      renderFilterStatus(await filters.addFilterStatus(context, caller.account!.id, input.params.id, input.body.status_id)),
    );
  });
}
