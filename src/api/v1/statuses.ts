/**
 * /api/v1/statuses: post (now or scheduled, with Idempotency-Key), read one or many, delete (answering with
 * the source for "delete and redraft"), edit, history, source and context. Boosts, favourites, bookmarks,
 * pins and conversation mutes live in interactions.ts.
 */
import type * as v from "valibot";
import { mediaByIds } from "../../features/media/service";
import { emojisOfTexts, renderCustomEmoji } from "../../features/custom-emojis/service";
import { editStatus, historyOf, type EditInput } from "../../features/statuses/edit";
import { once } from "../../features/statuses/idempotency";
import { scheduleStatus } from "../../features/statuses/scheduled";
import { deleteStatus, findOwnStatus, findVisibleStatus, postStatus, type ComposeInput } from "../../features/statuses/service";
import { threadAround } from "../../features/statuses/thread";
import type { AppContext } from "../../infra/context";
import { storageFor } from "../../infra/storage/index";
import { routes } from "../endpoint";
import { renderMediaAttachment } from "../entities/media-attachment";
import { renderStatus, renderStatuses } from "../entities/status";
import { filterThread } from "../filtering";
import { renderScheduledStatuses } from "./scheduled-statuses";
import { composeBody, editBody, idParams, idsQuery, type ComposeBody, type EditBody } from "./statuses-input";

/** Mastodon's GET /api/v1/statuses?id[]= answers at most this many. */
const MAX_STATUSES_PER_REQUEST = 20;

const READ = ["read", "read:statuses"] as const;
const WRITE = ["write", "write:statuses"] as const;

/** "x,y" → {x, y} when both are in -1..1; anything else is ignored, as a malformed focus is by Mastodon. */
function parseFocus(text: string | undefined) {
  if (text === undefined) return undefined;
  const [x, y] = text.split(",").map((p) => Number(p.trim()));
  return x !== undefined && y !== undefined && Math.abs(x) <= 1 && Math.abs(y) <= 1 ? { x, y } : undefined;
}

export function statusRoutes(context: AppContext) {
  return routes(context, "statuses", (r) => {
    r.post("/api/v1/statuses", { auth: "user", scopes: WRITE, body: composeBody, tags: ["statuses"], summary: "Post a new status" }, async ({ input, caller, request }) => {
      const { scheduled_at, ...body } = input.body as ComposeBody;
      const author = caller.account!;
      const compose: ComposeInput = { ...body, application_id: caller.token.application_id };
      if (scheduled_at) return (await renderScheduledStatuses(context, [await scheduleStatus(context, author, compose, scheduled_at)]))[0];
      const key = request.headers.get("idempotency-key");
      const { statusId } = key ? await once(context, author.id, key, () => postStatus(context, author, compose)) : await postStatus(context, author, compose);
      return renderStatus(context, author, statusId);
    });

    r.get("/api/v1/statuses", { auth: "optional", scopes: READ, query: idsQuery, tags: ["statuses"], summary: "View multiple statuses" }, async ({ input, caller }) => {
      const ids = ((input.query as v.InferOutput<typeof idsQuery>).id ?? []).slice(0, MAX_STATUSES_PER_REQUEST);
      return renderStatuses(context, caller?.account, [...new Set(ids)]);
    });

    r.get("/api/v1/statuses/:id", { auth: "optional", scopes: READ, params: idParams, tags: ["statuses"] }, ({ input, caller }) =>
      renderStatus(context, caller?.account, input.params.id),
    );

    r.delete("/api/v1/statuses/:id", { auth: "user", scopes: WRITE, params: idParams, tags: ["statuses"], summary: "Delete a status (answers with its source)" }, async ({ input, caller }) => {
      const author = caller.account!;
      const own = await findOwnStatus(context.sql, author, input.params.id);
      // Rendered before the delete: the answer carries the source, media and poll a redraft needs.
      const entity = await renderStatus(context, author, own.id);
      entity.text = own.text;
      await deleteStatus(context, author, own.id);
      return entity;
    });

    r.put("/api/v1/statuses/:id", { auth: "user", scopes: WRITE, params: idParams, body: editBody, tags: ["statuses"], summary: "Edit a status" }, async ({ input, caller }) => {
      const body = input.body as EditBody;
      const edit: EditInput = {
        ...body,
        media_attributes: body.media_attributes?.map((a) => ({ id: a.id, description: a.description, focus: parseFocus(a.focus) })),
      };
      await editStatus(context, caller.account!, input.params.id, edit);
      return renderStatus(context, caller.account!, input.params.id);
    });

    r.get("/api/v1/statuses/:id/source", { auth: "user", scopes: READ, params: idParams, tags: ["statuses"] }, async ({ input, caller }) => {
      const status = await findOwnStatus(context.sql, caller.account!, input.params.id);
      return { id: status.id, text: status.text, spoiler_text: status.spoiler_text };
    });

    r.get("/api/v1/statuses/:id/history", { auth: "optional", scopes: READ, params: idParams, tags: ["statuses"] }, async ({ input, caller }) => {
      const status = await findVisibleStatus(context.sql, caller?.account?.id ?? null, input.params.id);
      const [entity, versions] = await Promise.all([renderStatus(context, caller?.account, status.id), historyOf(context, status)]);
      const storage = storageFor(context.config);
      // Each version shows the emojis of its own text, content warning and poll options (Mastodon's StatusEdit).
      const [mediaRows, emojis] = await Promise.all([
        mediaByIds(context.sql, versions.flatMap((v) => v.mediaIds)),
        emojisOfTexts(
          context,
          versions.map((v, i) => ({ key: String(i), accountId: status.account_id, body: `${v.spoilerText} ${v.content} ${(v.pollOptions ?? []).join(" ")}` })),
        ),
      ]);
      const media = new Map(mediaRows.map((m) => [m.id, m]));
      return versions.map((version, i) => ({
        content: version.content,
        spoiler_text: version.spoilerText,
        sensitive: version.sensitive,
        created_at: version.createdAt.toISOString(),
        account: entity.account,
        poll: version.pollOptions ? { options: version.pollOptions.map((title) => ({ title })) } : null,
        media_attachments: version.mediaIds.flatMap((id) => (media.has(id) ? [renderMediaAttachment(storage, media.get(id)!)] : [])),
        emojis: (emojis.get(String(i)) ?? []).map((e) => renderCustomEmoji(context.config, e)),
      }));
    });

    r.get("/api/v1/statuses/:id/context", { auth: "optional", scopes: READ, params: idParams, tags: ["statuses"] }, async ({ input, caller }) => {
      const viewer = caller?.account;
      const thread = await threadAround(context.sql, viewer?.id ?? null, input.params.id);
      const [ancestors, descendants] = await Promise.all([renderStatuses(context, viewer, thread.ancestors), renderStatuses(context, viewer, thread.descendants)]);
      return filterThread(context, viewer, { ancestors, descendants });
    });
  });
}
