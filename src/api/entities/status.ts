/**
 * Mastodon's Status entity (REST::StatusSerializer), rendered for a page of statuses at once: a fixed number
 * of queries per page (statuses, boosted originals, accounts, mentions, tags, media, polls, applications, the
 * viewer's flags), never one per status. Every status — and the original inside a boost — passes the
 * visibility rule (features/statuses/visibility.ts); what the viewer may not see is silently left out.
 *
 * Other features render statuses only through renderStatuses / renderStatus.
 */
import type { AccountWithUser, LocalAccountRow } from "../../features/accounts/service";
import { findVisibleAccounts } from "../../features/accounts/service";
import { mediaOfStatuses, type MediaRow } from "../../features/media/service";
import { loadStatusPage, isStatusId, type StatusPage } from "../../features/statuses/service";
import type { StatusRow } from "../../features/statuses/store";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { storageFor } from "../../infra/storage/index";
import { renderAccount, type AccountEntity } from "./account";
import { renderMediaAttachment, type MediaAttachmentEntity } from "./media-attachment";
import { renderPoll, type PollEntity } from "./poll";

export interface StatusEntity {
  id: string;
  created_at: string;
  in_reply_to_id: string | null;
  in_reply_to_account_id: string | null;
  sensitive: boolean;
  spoiler_text: string;
  visibility: StatusRow["visibility"];
  language: string | null;
  uri: string;
  url: string | null;
  replies_count: number;
  reblogs_count: number;
  favourites_count: number;
  edited_at: string | null;
  favourited?: boolean;
  reblogged?: boolean;
  muted?: boolean;
  bookmarked?: boolean;
  pinned?: boolean;
  content: string;
  /** Only in the answer to DELETE (delete and redraft): the source text. */
  text?: string;
  filtered: never[];
  reblog: StatusEntity | null;
  application?: { name: string; website: string | null };
  account: AccountEntity;
  media_attachments: MediaAttachmentEntity[];
  mentions: { id: string; username: string; url: string; acct: string }[];
  tags: { name: string; url: string }[];
  emojis: never[];
  card: null;
  poll: PollEntity | null;
}

export interface RenderOptions {
  /** Include `text` (the source): the delete-and-redraft answer. */
  withSource?: boolean;
}

/**
 * The statuses `statusIds` names, rendered in the order given; ids the viewer may not see, unknown or
 * malformed ones are dropped. A boost renders with `reblog` filled, and is dropped when its original is hidden.
 */
export async function renderStatuses(
  context: AppContext,
  viewer: LocalAccountRow | undefined,
  statusIds: string[],
  options: RenderOptions = {},
): Promise<StatusEntity[]> {
  const ids = statusIds.filter(isStatusId);
  if (ids.length === 0) return [];
  const page = await loadStatusPage(context.sql, viewer?.id ?? null, ids);
  const [accounts, media] = await Promise.all([
    findVisibleAccounts(context.sql, [...new Set([...page.rows.values()].map((s) => s.account_id))]),
    mediaOfStatuses(context.sql, [...page.rows.keys()]),
  ]);
  const parts = new Parts(context, viewer, page, accounts, media);
  const out: StatusEntity[] = [];
  for (const id of ids) {
    const entity = parts.render(id, options);
    if (entity) out.push(entity);
  }
  return out;
}

/** One status for the viewer, or Mastodon's 404 when it is missing or not visible to them. */
export async function renderStatus(context: AppContext, viewer: LocalAccountRow | undefined, statusId: string, options: RenderOptions = {}): Promise<StatusEntity> {
  const [entity] = await renderStatuses(context, viewer, [statusId], options);
  if (!entity) throw ApiError.notFound();
  return entity;
}

/** Everything loaded for a page, assembled into entities. */
class Parts {
  private readonly accounts: Map<string, AccountEntity>;
  private readonly media = new Map<string, MediaAttachmentEntity[]>();

  constructor(
    private readonly context: AppContext,
    private readonly viewer: LocalAccountRow | undefined,
    private readonly page: StatusPage,
    accounts: AccountWithUser[],
    media: MediaRow[],
  ) {
    // A suspended author's posts are not shown (Mastodon hides them everywhere).
    this.accounts = new Map(accounts.filter((a) => a.suspended_at === null).map((a) => [a.id, renderAccount(context.config, a)]));
    const storage = storageFor(context.config);
    for (const row of media) {
      const list = this.media.get(row.status_id!) ?? [];
      list.push(renderMediaAttachment(storage, row));
      this.media.set(row.status_id!, list);
    }
  }

  render(id: string, options: RenderOptions): StatusEntity | undefined {
    const row = this.page.rows.get(id);
    if (!row) return undefined;
    let reblog: StatusEntity | null = null;
    if (row.reblog_of_id) {
      const original = this.render(row.reblog_of_id, {});
      if (!original || original.reblog) return undefined;
      reblog = original;
    }
    const account = this.accounts.get(row.account_id);
    if (!account) return undefined;
    return this.entity(row, account, reblog, options);
  }

  private entity(row: StatusRow, account: AccountEntity, reblog: StatusEntity | null, options: RenderOptions): StatusEntity {
    const { page, viewer } = this;
    const base = this.context.config.baseUrl;
    const flags = page.flags;
    const entity: StatusEntity = {
      id: row.id,
      created_at: row.created_at.toISOString(),
      in_reply_to_id: row.in_reply_to_id,
      in_reply_to_account_id: row.in_reply_to_account_id,
      sensitive: row.sensitive,
      spoiler_text: row.spoiler_text,
      visibility: row.visibility,
      language: row.language,
      uri: row.uri,
      url: row.url,
      replies_count: row.replies_count,
      reblogs_count: row.reblogs_count,
      favourites_count: row.favourites_count,
      edited_at: row.edited_at ? row.edited_at.toISOString() : null,
      content: row.content,
      filtered: [],
      reblog,
      account,
      media_attachments: this.media.get(row.id) ?? [],
      mentions: (page.mentions.get(row.id) ?? []).map((m) => ({
        id: m.account_id,
        username: m.username,
        url: m.url ?? m.uri,
        acct: m.domain ? `${m.username}@${m.domain}` : m.username,
      })),
      tags: (page.tags.get(row.id) ?? []).map((name) => ({ name, url: `${base}/tags/${encodeURIComponent(name)}` })),
      emojis: [],
      card: null,
      poll: null,
    };
    if (flags) {
      // Per-viewer flags exist only for a signed-in viewer, as in Mastodon.
      entity.favourited = flags.favourited.has(row.id);
      entity.reblogged = flags.reblogged.has(row.id);
      entity.muted = row.conversation_id !== null && flags.mutedConversations.has(row.conversation_id);
      entity.bookmarked = flags.bookmarked.has(row.id);
      if (viewer && row.account_id === viewer.id && !row.reblog_of_id && row.visibility !== "direct") entity.pinned = flags.pinned.has(row.id);
    }
    if (options.withSource) entity.text = row.text;
    const application = row.application_id ? page.applications.get(row.application_id) : undefined;
    if (application && !row.reblog_of_id) entity.application = application;
    const poll = row.poll_id ? page.polls.get(row.poll_id) : undefined;
    if (poll) entity.poll = renderPoll(poll, viewer?.id ?? null, viewer ? (page.ownVotes.get(poll.id) ?? []) : undefined);
    return this.order(entity);
  }

  /** Keys in Mastodon's order (clients do not care; people reading JSON side by side do). */
  private order(e: StatusEntity): StatusEntity {
    const { content, text, filtered, reblog, application, account, media_attachments, mentions, tags, emojis, card, poll, ...head } = e;
    return {
      ...head,
      content,
      ...(text !== undefined && { text }),
      filtered,
      reblog,
      ...(application && { application }),
      account,
      media_attachments,
      mentions,
      tags,
      emojis,
      card,
      poll,
    };
  }
}
