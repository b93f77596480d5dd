/**
 * Editing one's own status (Mastodon's UpdateStatusService), its history and its source.
 *
 * Like Mastodon, an edit states the whole new post: media_ids and poll left out mean "no media", "no
 * poll". Before changing anything the version being replaced is written to status_edits (so the first edit
 * also keeps the original); history is those versions plus the current one. A changed poll is a new poll:
 * votes cast on the old options would no longer mean anything.
 */
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import type { LocalAccountRow } from "../accounts/service";
import { publishEvent } from "../events/publish";
import { attachMedia, detachMediaFromStatus, mediaOfStatuses, updateAttachedDetails, type Focus } from "../media/service";
import { checkMediaCount, checkPoll, checkText, normaliseLanguage, type PollInput } from "./compose";
import { findOwnStatus, renderText } from "./service";
import * as store from "./store";

export interface EditInput {
  status?: string;
  spoiler_text?: string;
  sensitive?: boolean;
  language?: string;
  media_ids?: string[];
  media_attributes?: { id: string; description?: string; focus?: Focus }[];
  poll?: PollInput;
}

export async function editStatus(context: AppContext, author: LocalAccountRow, id: string, input: EditInput): Promise<void> {
  const existing = await findOwnStatus(context.sql, author, id);
  if (existing.reblog_of_id) throw ApiError.unprocessable("Validation failed: Reblogs cannot be edited");
  const text = input.status ?? existing.text;
  const spoilerText = input.spoiler_text ?? existing.spoiler_text;
  const mediaIds = [...new Set(input.media_ids ?? [])];
  checkMediaCount(mediaIds, input.poll !== undefined);
  const poll = input.poll ? checkPoll(input.poll) : undefined;
  checkText(text, spoilerText, mediaIds.length > 0 || poll !== undefined, context.config.statuses.maxCharacters);

  await context.sql.begin(async (tx) => {
    const status = await store.findLiveForUpdate(tx, existing.id);
    if (!status) throw ApiError.notFound();
    const [oldPoll] = status.poll_id ? await store.pollsByIds(tx, [status.poll_id]) : [];
    const oldMedia = (await mediaOfStatuses(tx, [status.id])).map((m) => m.id);
    await store.insertEdit(tx, {
      statusId: status.id,
      accountId: author.id,
      text: status.text,
      content: status.content,
      spoilerText: status.spoiler_text,
      sensitive: status.sensitive,
      mediaIds: oldMedia,
      pollOptions: oldPoll?.options ?? null,
      createdAt: status.edited_at ?? status.created_at,
    });

    const rendered = await renderText(context, tx, text);
    await store.updateContent(tx, status.id, {
      text,
      content: rendered.content,
      spoilerText,
      sensitive: editedSensitive(input, status.sensitive, spoilerText),
      language: input.language !== undefined ? normaliseLanguage(input.language, status.language) : status.language,
    });
    await store.replaceMentions(tx, status.id, rendered.mentionIds);
    await store.unlinkTags(tx, status.id);
    await store.linkTags(tx, status.id, rendered.tags);

    await detachMediaFromStatus(tx, status.id, mediaIds);
    await attachMedia(tx, author.id, status.id, mediaIds);
    for (const change of input.media_attributes ?? []) await updateAttachedDetails(tx, author.id, status.id, change);

    const pollChanged =
      poll === undefined
        ? oldPoll !== undefined
        : !oldPoll || oldPoll.multiple !== poll.multiple || oldPoll.options.join("\u0000") !== poll.options.join("\u0000");
    if (pollChanged) {
      if (oldPoll) await store.deletePoll(tx, oldPoll.id);
      if (poll) await store.insertPoll(tx, { accountId: author.id, statusId: status.id, ...poll });
    }
  });
  await publishEvent(context, { type: "status.updated", statusId: existing.id, accountId: author.id });
}

/**
 * Mastodon's UpdateStatusService: when the edit names `sensitive` or `spoiler_text`, the post is sensitive if
 * asked or if it (now) has a content warning — so adding a CW makes it sensitive and removing the CW, without
 * asking for sensitive, makes it not; an edit naming neither keeps the flag (a CW still forces it).
 */
export function editedSensitive(input: Pick<EditInput, "sensitive" | "spoiler_text">, before: boolean, spoilerText: string): boolean {
  if (input.sensitive === undefined && input.spoiler_text === undefined) return before || spoilerText !== "";
  return input.sensitive === true || spoilerText !== "";
}

export interface StatusVersion {
  content: string;
  spoilerText: string;
  sensitive: boolean;
  createdAt: Date;
  mediaIds: string[];
  pollOptions: string[] | null;
}

/** Every version of a status the viewer may see, oldest first, the current one last. */
export async function historyOf(context: AppContext, status: store.StatusRow): Promise<StatusVersion[]> {
  const [edits, media, polls] = await Promise.all([
    store.editsOf(context.sql, status.id),
    mediaOfStatuses(context.sql, [status.id]),
    status.poll_id ? store.pollsByIds(context.sql, [status.poll_id]) : Promise.resolve([]),
  ]);
  return [
    ...edits.map((e) => ({
      content: e.content,
      spoilerText: e.spoiler_text,
      sensitive: e.sensitive,
      createdAt: e.created_at,
      mediaIds: e.media_attachment_ids,
      pollOptions: e.poll_options,
    })),
    {
      content: status.content,
      spoilerText: status.spoiler_text,
      sensitive: status.sensitive,
      createdAt: status.edited_at ?? status.created_at,
      mediaIds: media.map((m) => m.id),
      pollOptions: polls[0]?.options ?? null,
    },
  ];
}
