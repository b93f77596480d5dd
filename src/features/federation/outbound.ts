/**
 * Statuses as the federation sees them: rows loaded in a few queries and turned into NoteInput for
 * activities.ts. Used by the object routes (GET /users/:name/statuses/:id…) and by delivery.
 */
import type { AppContext } from "../../infra/context";
import { storageFor } from "../../infra/storage/index";
import { emojisOfStatuses, renderEmojiTag } from "../custom-emojis/service";
import { announceActivity, createActivity, type NoteInput, type NoteMedia } from "./activities";
import * as store from "./outbound-store";

export interface LoadedStatus {
  row: store.OutboundStatusRow;
  note: NoteInput;
  /** Mentioned remote accounts' inboxes (shared when they have one). */
  mentionedInboxes: (string | null)[];
}

function dimension(meta: Record<string, unknown>, key: "width" | "height"): number | undefined {
  const original = meta.original as Record<string, unknown> | undefined;
  const value = original?.[key] ?? meta[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function mediaTypeOf(row: store.OutboundMediaRow): string {
  if (row.content_type) return row.content_type;
  return row.type === "video" || row.type === "gifv" ? "video/mp4" : row.type === "audio" ? "audio/mpeg" : "image/jpeg";
}

/** Statuses by id with everything their Note needs; ids that do not exist are simply absent. */
export async function loadStatuses(context: Pick<AppContext, "sql" | "config">, ids: string[]): Promise<Map<string, LoadedStatus>> {
  const { sql, config } = context;
  const rows = await store.statusesByIds(sql, ids);
  const statusIds = rows.map((r) => r.id);
  const [mentions, tags, media, polls, emojis] = await Promise.all([
    store.mentionedAccounts(sql, statusIds),
    store.tagNames(sql, statusIds),
    store.mediaOf(sql, statusIds),
    store.pollsOf(sql, rows.map((r) => r.poll_id).filter((id): id is string => id !== null)),
    // Only ours: a remote status is never rendered as our Note.
    emojisOfStatuses(context, rows.filter((r) => r.local)),
  ]);
  const storage = storageFor(config);
  const out = new Map<string, LoadedStatus>();
  for (const row of rows) {
    const own = mentions.filter((m) => m.status_id === row.id);
    const poll = polls.find((p) => p.id === row.poll_id);
    const noteMedia: NoteMedia[] = media
      .filter((m) => m.status_id === row.id && (m.file_key || m.remote_url))
      .map((m) => ({
        url: m.file_key ? storage.url(m.file_key) : m.remote_url!,
        mediaType: mediaTypeOf(m),
        description: m.description,
        blurhash: m.blurhash,
        focus: m.focus,
        width: dimension(m.meta, "width"),
        height: dimension(m.meta, "height"),
      }));
    out.set(row.id, {
      row,
      mentionedInboxes: own.filter((m) => m.domain !== null).map((m) => m.shared_inbox_url || m.inbox_url),
      note: {
        id: row.id,
        uri: row.uri,
        url: row.url,
        content: row.content,
        spoilerText: row.spoiler_text,
        sensitive: row.sensitive,
        visibility: row.visibility,
        language: row.language,
        createdAt: row.created_at,
        editedAt: row.edited_at,
        inReplyToUri: row.parent_uri,
        conversationId: row.conversation_id,
        conversationUri: row.conversation_uri,
        author: { uri: row.author_uri, username: row.author_username },
        mentions: own.map((m) => ({ uri: m.uri, acct: m.domain ? `${m.username}@${m.domain}` : m.username })),
        tags: tags.filter((t) => t.status_id === row.id).map((t) => t.name),
        emojiTags: (emojis.get(row.id) ?? []).map((e) => renderEmojiTag(config, e)),
        media: noteMedia,
        ...(poll && {
          poll: { options: poll.options, tallies: poll.cached_tallies, multiple: poll.multiple, expiresAt: poll.expires_at, votersCount: poll.voters_count },
        }),
        repliesCount: row.replies_count,
      },
    });
  }
  return out;
}

export async function loadStatus(context: Pick<AppContext, "sql" | "config">, id: string): Promise<LoadedStatus | undefined> {
  return (await loadStatuses(context, [id])).get(id);
}

/**
 * An account's statuses as outbox items, in the given order: Create for its posts, Announce for its boosts
 * (without @context, for embedding in a collection). Shared by the outbox pages and the user archive.
 */
export async function outboxActivities(context: Pick<AppContext, "sql" | "config">, actorUri: string, ids: string[]): Promise<Record<string, unknown>[]> {
  const loaded = await loadStatuses(context, ids);
  const originals = await loadStatuses(context, [...loaded.values()].map((s) => s.row.reblog_of_id).filter((x): x is string => x !== null));
  return ids.flatMap((id) => {
    const status = loaded.get(id);
    if (!status) return [];
    if (!status.row.reblog_of_id) {
      const { "@context": _context, ...create } = createActivity(context.config, status.note);
      return [create];
    }
    const original = originals.get(status.row.reblog_of_id);
    if (!original) return [];
    const { "@context": _context, ...announce } = announceActivity({
      uri: status.row.uri,
      visibility: status.row.visibility,
      createdAt: status.row.created_at,
      actorUri,
      originalUri: original.row.uri,
      originalAuthorUri: original.row.author_uri,
    });
    return [announce];
  });
}
