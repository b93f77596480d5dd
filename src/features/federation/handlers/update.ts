/**
 * Update(Note | Question | Article | Page) → an edit of a status we have (Mastodon's
 * ActivityPub::Activity::Update + UpdateStatusService).
 *
 * Only the author may edit, and only a status we already have (an Update of something unknown is ignored,
 * as Mastodon does). A significant change (content, content warning, sensitive, media, poll options) writes
 * the version being replaced to status_edits first, so the history shows every version; a Question whose
 * only change is its vote counts just updates the poll (no edit, no "edited" mark), which is how remote
 * polls keep their tallies current.
 */
import { storeRemoteEmojis } from "../../custom-emojis/service";
import { publishEvent } from "../../events/publish";
import * as statuses from "../../statuses/store";
import { mentionedAccountIds, NOTE_TYPES, parseNote, sameHost, typeOf } from "../remote-statuses";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

export async function handleUpdateNote({ context, activity, actor }: Inbound): Promise<Outcome> {
  const object = activity.object;
  if (!NOTE_TYPES.includes(typeOf(object))) return "ignored: unsupported object type";
  const note = parseNote(object as Record<string, unknown>);
  if (!note) return "ignored: invalid object";
  if (note.attributedTo !== actor.uri || !sameHost(note.uri, actor.uri)) return "ignored: object not the actor's";
  const existing = await inbound.statusByUri(context.sql, note.uri);
  if (!existing || existing.deleted_at) return "ignored: unknown status";
  if (existing.account_id !== actor.id || existing.local) return "ignored: status not the actor's";

  const mentionIds = (await mentionedAccountIds(context, note.mentions)).filter((id) => id !== actor.id);
  if (note.emojis.length > 0 && actor.domain) await storeRemoteEmojis(context, actor.domain, note.emojis);
  const significant = await context.sql.begin(async (tx) => {
    const status = await statuses.findLiveForUpdate(tx, existing.id);
    if (!status) return false;
    const [oldPoll] = status.poll_id ? await statuses.pollsByIds(tx, [status.poll_id]) : [];
    const oldMedia = await inbound.remoteMediaOf(tx, status.id);
    const mediaChanged = oldMedia.map((m) => m.remote_url).join("\n") !== note.media.map((m) => m.remoteUrl).join("\n");
    const pollChanged = note.poll
      ? !oldPoll || oldPoll.multiple !== note.poll.multiple || oldPoll.options.join("\u0000") !== note.poll.options.join("\u0000")
      : oldPoll !== undefined;
    const changed =
      status.content !== note.content || status.spoiler_text !== note.spoilerText || status.sensitive !== note.sensitive || mediaChanged || pollChanged;

    if (changed) {
      await statuses.insertEdit(tx, {
        statusId: status.id,
        accountId: actor.id,
        text: "",
        content: status.content,
        spoilerText: status.spoiler_text,
        sensitive: status.sensitive,
        mediaIds: oldMedia.map((m) => m.id),
        pollOptions: oldPoll?.options ?? null,
        createdAt: status.edited_at ?? status.created_at,
      });
      await statuses.updateRemoteContent(tx, status.id, {
        content: note.content,
        spoilerText: note.spoilerText,
        sensitive: note.sensitive,
        language: note.language ?? status.language,
        // An edit time before the current version would reorder history: never go back.
        editedAt: note.updated && note.updated.getTime() > (status.edited_at ?? status.created_at).getTime() ? note.updated : new Date(),
      });
      await statuses.replaceMentions(tx, status.id, mentionIds);
      await statuses.unlinkTags(tx, status.id);
      await statuses.linkTags(tx, status.id, note.tags);
      if (mediaChanged) {
        // The old rows stay (the edit history points at them), detached from the status.
        await inbound.detachMedia(tx, status.id, []);
        await inbound.insertRemoteMedia(tx, actor.id, status.id, note.media);
      } else {
        for (const [i, m] of oldMedia.entries()) await inbound.updateMediaDescription(tx, m.id, note.media[i]?.description ?? null);
      }
    }
    if (pollChanged) {
      if (oldPoll) await statuses.deletePoll(tx, oldPoll.id);
      if (note.poll) await statuses.insertRemotePoll(tx, { accountId: actor.id, statusId: status.id, ...note.poll });
    } else if (oldPoll && note.poll) {
      await statuses.updateRemotePollCounts(tx, oldPoll.id, note.poll.tallies, note.poll.votersCount, note.poll.expiresAt);
    }
    return changed;
  });
  if (!significant) return "updated: poll counts or nothing";
  await publishEvent(context, { type: "status.updated", statusId: existing.id, accountId: actor.id });
  return "updated";
}
