/**
 * Filters at the edge: rendered statuses go through the viewer's filters for the context they are shown in
 * (home, public, thread, account, notifications). A `hide` match removes the status; `warn` and `blur`
 * matches fill its `filtered` list (FilterResult[]), on the status and on the original inside a boost.
 * Anonymous viewers and viewers without filters cost nothing beyond one cache check (features/filters/cache.ts).
 */
import type { LocalAccountRow } from "../features/accounts/service";
import { compiledFiltersFor } from "../features/filters/cache";
import { activeIn, matchStatus, type CompiledFilter, type FilterContext, type FilterMatch } from "../features/filters/match";
import type { AppContext } from "../infra/context";
import { renderFilterResult } from "./entities/filter";
import type { StatusEntity } from "./entities/status";

export type { FilterContext } from "../features/filters/match";

/** The viewer's filters active in `context`, compiled (empty for anonymous viewers). */
export async function activeFilters(context: AppContext, viewer: Pick<LocalAccountRow, "id"> | undefined, filterContext: FilterContext): Promise<CompiledFilter[]> {
  if (!viewer) return [];
  return activeIn(await compiledFiltersFor(context, viewer.id), filterContext);
}

/**
 * One status through the filters: undefined when a `hide` filter matched (drop it), else the status with its
 * matches in `filtered`. A copy is made when annotating: rendered entities may be shared (render caches).
 */
export function annotate(status: StatusEntity, active: CompiledFilter[], viewerId: string): StatusEntity | undefined {
  if (active.length === 0) return status;
  const matches = matchStatus(active, status, viewerId);
  if (matches.length === 0) return status;
  if (matches.some((m) => m.filter.action === "hide")) return undefined;
  return withFiltered(status, matches);
}

export function withFiltered(status: StatusEntity, matches: FilterMatch[]): StatusEntity {
  // StatusEntity types `filtered` as the empty list the renderer puts there; FilterResult[] is its real shape.
  const filtered = matches.map(renderFilterResult) as unknown as never[];
  return { ...status, filtered, reblog: status.reblog ? { ...status.reblog, filtered } : null };
}

/** Filter a page of statuses for `viewer` in `filterContext`: hidden ones out, the rest annotated. */
export async function applyFilters(context: AppContext, viewer: Pick<LocalAccountRow, "id"> | undefined, filterContext: FilterContext, statuses: StatusEntity[]): Promise<StatusEntity[]> {
  const active = await activeFilters(context, viewer, filterContext);
  if (active.length === 0) return statuses;
  return statuses.flatMap((s) => annotate(s, active, viewer!.id) ?? []);
}

/**
 * Notifications (v1): a notification whose status a `hide` filter matches is left out, the others carry
 * the annotated status.
 */
export async function filterNotifications<T extends { status?: StatusEntity }>(context: AppContext, viewer: Pick<LocalAccountRow, "id">, notifications: T[]): Promise<T[]> {
  const active = await activeFilters(context, viewer, "notifications");
  if (active.length === 0) return notifications;
  return notifications.flatMap((n) => {
    if (!n.status) return [n];
    const status = annotate(n.status, active, viewer.id);
    return status ? [{ ...n, status }] : [];
  });
}

/** Grouped notifications (v2): groups whose status is hidden go, with the status; the rest are annotated. */
export async function filterGroups<T extends { statuses: StatusEntity[]; notification_groups: { status_id?: string }[] }>(
  context: AppContext,
  viewer: Pick<LocalAccountRow, "id">,
  results: T,
): Promise<T> {
  const active = await activeFilters(context, viewer, "notifications");
  if (active.length === 0) return results;
  const hidden = new Set<string>();
  const statuses: StatusEntity[] = [];
  for (const s of results.statuses) {
    const annotated = annotate(s, active, viewer.id);
    if (annotated) statuses.push(annotated);
    else hidden.add(s.id);
  }
  return {
    ...results,
    statuses,
    notification_groups: results.notification_groups.filter((g) => !g.status_id || !hidden.has(g.status_id)),
  };
}

/** A thread (Context entity) in the `thread` context. */
export async function filterThread(context: AppContext, viewer: Pick<LocalAccountRow, "id"> | undefined, thread: { ancestors: StatusEntity[]; descendants: StatusEntity[] }) {
  const active = await activeFilters(context, viewer, "thread");
  if (active.length === 0) return thread;
  const keep = (list: StatusEntity[]) => list.flatMap((s) => annotate(s, active, viewer!.id) ?? []);
  return { ancestors: keep(thread.ancestors), descendants: keep(thread.descendants) };
}
