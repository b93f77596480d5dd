/**
 * /api/v1/scheduled_statuses: list, show, reschedule, cancel one's own scheduled posts; and the
 * ScheduledStatus entity that POST /api/v1/statuses answers with when given scheduled_at.
 */
import * as v from "valibot";
import { mediaByIds } from "../../features/media/service";
import { cancelOwn, findOwnScheduled, listScheduled, rescheduleOwn, type ScheduledRow } from "../../features/statuses/scheduled";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { storageFor } from "../../infra/storage/index";
import { routes } from "../endpoint";
import { renderMediaAttachment, type MediaAttachmentEntity } from "../entities/media-attachment";
import { inDisplayOrder, linkHeader, pageParams, pageWhere, paginationEntries } from "../pagination";
import { idParams, scheduleBody } from "./statuses-input";

export interface ScheduledStatusEntity {
  id: string;
  scheduled_at: string;
  params: Record<string, unknown>;
  media_attachments: MediaAttachmentEntity[];
}

/** Mastodon's params object: every compose field, null when not given. */
function renderParams(params: Record<string, unknown>): Record<string, unknown> {
  return {
    text: params.status ?? "",
    poll: params.poll ?? null,
    media_ids: params.media_ids ?? null,
    sensitive: params.sensitive ?? null,
    spoiler_text: params.spoiler_text ?? null,
    visibility: params.visibility ?? null,
    language: params.language ?? null,
    scheduled_at: null,
    in_reply_to_id: params.in_reply_to_id ?? null,
    // An integer in Mastodon's JSON; ours is a 64-bit id, so precision may be lost — it is only an echo.
    application_id: params.application_id ? Number(params.application_id) : 0,
    idempotency: null,
    with_rate_limit: false,
  };
}

export async function renderScheduledStatuses(context: AppContext, rows: ScheduledRow[]): Promise<ScheduledStatusEntity[]> {
  const ids = rows.flatMap((r) => (Array.isArray(r.params.media_ids) ? (r.params.media_ids as string[]) : [])).filter((id) => /^\d{1,19}$/.test(id));
  const storage = storageFor(context.config);
  const media = new Map((await mediaByIds(context.sql, ids)).map((m) => [m.id, m]));
  return rows.map((row) => ({
    id: row.id,
    scheduled_at: row.scheduled_at.toISOString(),
    params: renderParams(row.params),
    media_attachments: ((row.params.media_ids as string[] | undefined) ?? [])
      .map((id) => media.get(id))
      .filter((m) => m !== undefined && m.account_id === row.account_id)
      .map((m) => renderMediaAttachment(storage, m!)),
  }));
}

const READ = ["read", "read:statuses"] as const;
const WRITE = ["write", "write:statuses"] as const;

export function scheduledStatusRoutes(context: AppContext) {
  const one = async (row: ScheduledRow) => (await renderScheduledStatuses(context, [row]))[0]!;
  return routes(context, "scheduled-statuses", (r) => {
    r.get("/api/v1/scheduled_statuses", { auth: "user", scopes: READ, query: v.object(paginationEntries), tags: ["statuses"] }, async ({ input, caller, request, set }) => {
      const page = pageParams(input.query as Record<string, string>, 20, 40);
      const rows = inDisplayOrder(await listScheduled(context.sql, caller.account!.id, pageWhere(context.sql, context.sql`id`, page)), page);
      const link = linkHeader(request.url, context.config.baseUrl, rows.map((r) => r.id));
      if (link) set.headers.link = link;
      return renderScheduledStatuses(context, rows);
    });

    r.get("/api/v1/scheduled_statuses/:id", { auth: "user", scopes: READ, params: idParams, tags: ["statuses"] }, async ({ input, caller }) =>
      one(await findOwnScheduled(context, caller.account!, input.params.id)),
    );

    r.put("/api/v1/scheduled_statuses/:id", { auth: "user", scopes: WRITE, params: idParams, body: scheduleBody, tags: ["statuses"] }, async ({ input, caller }) => {
      const body = input.body as v.InferOutput<typeof scheduleBody>;
      if (!body.scheduled_at) {
        await findOwnScheduled(context, caller.account!, input.params.id);
        throw ApiError.unprocessable("Validation failed: Scheduled at can't be blank");
      }
      return one(await rescheduleOwn(context, caller.account!, input.params.id, body.scheduled_at));
    });

    r.delete("/api/v1/scheduled_statuses/:id", { auth: "user", scopes: WRITE, params: idParams, tags: ["statuses"] }, async ({ input, caller }) => {
      await cancelOwn(context, caller.account!, input.params.id);
      return {};
    });
  });
}
