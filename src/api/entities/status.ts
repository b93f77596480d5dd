/**
 * Mastodon's Status entity (REST::StatusSerializer), rendered for a page of statuses at once. Every status —
 * and the original inside a boost — passes the visibility rule (features/statuses/visibility.ts); what the
 * viewer may not see is silently left out.
 *
 * What a page costs (see features/statuses/service.ts and render-cache.ts): one query for the statuses, the
 * originals of boosts, their cache versions and the viewer's flags; then, together, one for the authors and
 * — only for statuses whose cached rendering is missing or outdated — mentions, tags, applications, media
 * and cards; polls only when the page has any. Never one query per status.
 *
 * Other features render statuses only through renderStatuses / renderStatus.
 */
import type { LocalAccountRow } from "../../features/accounts/service";
import { findVisibleAccounts } from "../../features/accounts/service";
import { cardsForStatuses } from "../../features/cards/service";
import { emojisOfStatuses, renderCustomEmoji, type CustomEmojiEntity } from "../../features/custom-emojis/service";
import { mediaOfStatuses } from "../../features/media/service";
import { RenderCache } from "../../features/statuses/render-cache";
import { isStatusId, loadPolls, loadStaticParts, loadStatusPage, type PagePolls, type StatusPage } from "../../features/statuses/service";
import type { PageRow, SqlCondition, StatusRow } from "../../features/statuses/store";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { storageFor } from "../../infra/storage/index";
import { renderAccountsWithMoved, type AccountEntity } from "./account";
import { renderMediaAttachment, type MediaAttachmentEntity } from "./media-attachment";
import { pollEmojis, renderPoll, type PollEntity } from "./poll";
import { renderCard, type PreviewCardEntity } from "./preview-card";

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
  emojis: CustomEmojiEntity[];
  card: PreviewCardEntity | null;
  poll: PollEntity | null;
}

export interface RenderOptions {
  /**
   * One more condition, in SQL on `s` (and `o`, the original of a boost), that the statuses asked for must
   * meet to be rendered — a feature's read-time rule (the home timeline's stillInHome), applied by the page
   * query itself instead of a query of its own.
   */
  where?: SqlCondition;
}

/**
 * The viewer-independent parts of a status, cached by id and version. Shared between responses: never
 * mutate them (build new arrays and objects instead).
 */
interface StaticParts {
  mentions: StatusEntity["mentions"];
  tags: StatusEntity["tags"];
  media: MediaAttachmentEntity[];
  application: { name: string; website: string | null } | undefined;
  card: PreviewCardEntity | null;
  /** Custom emojis the text uses (features/custom-emojis: from the text and the author's domain). */
  emojis: CustomEmojiEntity[];
}

interface Caches {
  /** ~1–2 KB an entry: 10,000 recent statuses cost ~10–20 MB and cover every active timeline of a small server. */
  statuses: RenderCache<StaticParts>;
  /**
   * Authors' Account entities by account id and row version (store.PageRow.account_version); null for an
   * author whose posts are not shown (suspended, or a sign-up not yet confirmed or approved).
   */
  accounts: RenderCache<AccountEntity | null>;
  /**
   * Bumped when the caches are emptied for a custom emoji change: a rendering whose emojis were read before
   * it is used for its answer but not cached (it may show the old emoji).
   */
  emojiGeneration: number;
}

/** Per configuration: URLs in the rendering depend on it (one per process, but tests build several). */
const cachesByConfig = new WeakMap<object, Caches>();

/** The caches a context renders with; also for tests and the profiling bench (to see them, or start cold). */
export function statusRenderCaches(context: Pick<AppContext, "config">): Caches {
  let caches = cachesByConfig.get(context.config);
  if (!caches) {
    caches = { statuses: new RenderCache<StaticParts>(10_000), accounts: new RenderCache<AccountEntity | null>(10_000), emojiGeneration: 0 };
    cachesByConfig.set(context.config, caches);
  }
  return caches;
}

/** The NOTIFY channel of custom emoji changes (migration 0028). */
export const CUSTOM_EMOJIS_CHANNEL = "woolly_custom_emojis";
/** Pools whose listener was started (value: when, or 0 once it is up); a failed one is tried again later. */
const listeningForEmojis = new WeakMap<object, number>();
const RETRY_LISTEN_MS = 30_000;

/**
 * Cached renderings hold the emojis of their text and of their author's profile, and no row version covers a
 * custom emoji: when one is added, changed or removed (migration 0028 tells), every cached rendering of this
 * pool's caches is dropped — rare (an admin's action), and cheaper than checking emojis on every page. Also on
 * every (re)connect of the listener, since a change may have been missed meanwhile; if it cannot listen at
 * all, the caches' ten-minute maximum age still bounds how long an old emoji shows.
 */
function listenForEmojiChanges(context: Pick<AppContext, "sql" | "config">): void {
  const started = listeningForEmojis.get(context.sql);
  if (started !== undefined && (started === 0 || Date.now() - started < RETRY_LISTEN_MS)) return;
  listeningForEmojis.set(context.sql, Date.now());
  const forget = () => {
    const caches = statusRenderCaches(context);
    caches.emojiGeneration++;
    caches.statuses.clear();
    caches.accounts.clear();
  };
  context.sql
    .listen(CUSTOM_EMOJIS_CHANNEL, forget, () => {
      forget();
      listeningForEmojis.set(context.sql, 0);
    })
    // Not every page should pay for a connection attempt: the next try comes after RETRY_LISTEN_MS.
    .catch(() => {});
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
  const page = await loadStatusPage(context.sql, viewer?.id ?? null, ids, options.where);
  return renderPage(context, viewer, page, ids);
}

/**
 * The statuses a query selects (`select s.id from … order by … limit n`, a timeline page), read and rendered
 * with one statement when the cache is warm: `ids` are those it selected that the viewer may see, newest
 * first (the page's cursors), `statuses` their renderings in that order.
 */
export async function renderSelectedStatuses(
  context: AppContext,
  viewer: LocalAccountRow | undefined,
  select: SqlCondition,
  options: RenderOptions = {},
): Promise<{ ids: string[]; statuses: StatusEntity[] }> {
  const page = await loadStatusPage(context.sql, viewer?.id ?? null, select, options.where);
  const ids: string[] = [];
  for (const row of page.rows.values()) if (row.requested) ids.push(row.id);
  ids.sort((a, b) => (a.length !== b.length ? b.length - a.length : a < b ? 1 : a > b ? -1 : 0)); // as numbers, newest first
  return { ids, statuses: await renderPage(context, viewer, page, ids) };
}

/** A page read by loadStatusPage, rendered in the order of `ids` (cache misses loaded in one batch). */
async function renderPage(context: AppContext, viewer: LocalAccountRow | undefined, page: StatusPage, ids: string[]): Promise<StatusEntity[]> {
  listenForEmojiChanges(context);
  const viewerId = viewer?.id ?? null;
  const caches = statusRenderCaches(context);
  const { statuses: staticParts, accounts: authors } = caches;
  const generation = caches.emojiGeneration;
  const cacheable = () => caches.emojiGeneration === generation;
  const rows = [...page.rows.values()];
  const cached = new Map<string, StaticParts>();
  const missing: PageRow[] = [];
  for (const row of rows) {
    const parts = staticParts.get(row.id, row.cache_version);
    if (parts) cached.set(row.id, parts);
    else missing.push(row);
  }
  const accounts = new Map<string, AccountEntity | null>();
  const missingAccounts = new Map<string, string>();
  for (const row of rows) {
    if (accounts.has(row.account_id) || missingAccounts.has(row.account_id)) continue;
    const account = authors.get(row.account_id, row.account_version);
    if (account !== undefined) accounts.set(row.account_id, account);
    else missingAccounts.set(row.account_id, row.account_version);
  }
  const pollsLoaded = loadPolls(context.sql, viewerId, rows);
  const [polls] = await Promise.all([
    pollsLoaded.then(async (loaded) => ({ ...loaded, emojis: loaded.polls.size > 0 ? await pollEmojis(context, [...loaded.polls.values()]) : undefined })),
    missing.length > 0 ? renderStaticParts(context, staticParts, missing, cached, pollsLoaded, cacheable) : undefined,
    missingAccounts.size > 0 ? renderAuthors(context, authors, missingAccounts, accounts, cacheable) : undefined,
  ]);
  const parts = new Parts(viewer, page, polls, cached, accounts);
  const out: StatusEntity[] = [];
  for (const id of ids) {
    // Rows read only as the original of a boost (not asked for, or not meeting `where`) are not shown alone.
    const entity = page.rows.get(id)?.requested ? parts.render(id) : undefined;
    if (entity) out.push(entity);
  }
  return out;
}

/** Load and render the static parts of `rows` (one batch of queries), cache them, and add them to `into`. */
async function renderStaticParts(
  context: AppContext,
  cache: Caches["statuses"],
  rows: PageRow[],
  into: Map<string, StaticParts>,
  polls: Promise<PagePolls>,
  cacheable: () => boolean,
): Promise<void> {
  const ids = rows.map((r) => r.id);
  // A status's emojis include those of its poll's options, as Mastodon's (options change only with an edit,
  // which changes the cache version).
  const withOptions = async () => {
    const { polls: byId } = await polls;
    return rows.map((r) => (r.poll_id && byId.has(r.poll_id) ? { ...r, content: `${r.content} ${byId.get(r.poll_id)!.options.join(" ")}` } : r));
  };
  const [loaded, media, cards, emojis] = await Promise.all([
    loadStaticParts(context.sql, rows),
    mediaOfStatuses(context.sql, ids),
    cardsForStatuses(context.sql, ids),
    withOptions().then((texts) => emojisOfStatuses(context, texts)),
  ]);
  const base = context.config.baseUrl;
  const storage = storageFor(context.config);
  const mediaByStatus = new Map<string, MediaAttachmentEntity[]>();
  for (const row of media) {
    const list = mediaByStatus.get(row.status_id!) ?? [];
    list.push(renderMediaAttachment(storage, row));
    mediaByStatus.set(row.status_id!, list);
  }
  for (const row of rows) {
    const card = cards.get(row.id);
    const parts: StaticParts = {
      mentions: (loaded.mentions.get(row.id) ?? []).map((m) => ({
        id: m.account_id,
        username: m.username,
        url: m.url ?? m.uri,
        acct: m.domain ? `${m.username}@${m.domain}` : m.username,
      })),
      tags: (loaded.tags.get(row.id) ?? []).map((name) => ({ name, url: `${base}/tags/${encodeURIComponent(name)}` })),
      media: mediaByStatus.get(row.id) ?? [],
      application: row.application_id ? loaded.applications.get(row.application_id) : undefined,
      // A boost has no card of its own: clients show the original's.
      card: card && !row.reblog_of_id ? renderCard(card, base) : null,
      emojis: (emojis.get(row.id) ?? []).map((e) => renderCustomEmoji(context.config, e)),
    };
    if (cacheable()) cache.set(row.id, row.cache_version, parts);
    into.set(row.id, parts);
  }
}

/** Load and render the authors in `versions` (id → row version), cache them, and add them to `into`. */
async function renderAuthors(
  context: AppContext,
  cache: Caches["accounts"],
  versions: Map<string, string>,
  into: Map<string, AccountEntity | null>,
  cacheable: () => boolean,
): Promise<void> {
  // A suspended author's posts are not shown (Mastodon hides them everywhere).
  const visible = (await findVisibleAccounts(context.sql, [...versions.keys()])).filter((a) => a.suspended_at === null);
  // With `moved` (an author who moved): cached under the author's row version, so a later change of the
  // target account itself shows within the cache's max age (10 minutes), not at once.
  const found = new Map((await renderAccountsWithMoved(context, visible)).map((entity) => [entity.id, entity]));
  for (const [id, version] of versions) {
    const entity = found.get(id) ?? null;
    if (cacheable()) cache.set(id, version, entity);
    into.set(id, entity);
  }
}

/** One status for the viewer, or Mastodon's 404 when it is missing or not visible to them. */
export async function renderStatus(context: AppContext, viewer: LocalAccountRow | undefined, statusId: string, options: RenderOptions = {}): Promise<StatusEntity> {
  const [entity] = await renderStatuses(context, viewer, [statusId], options);
  if (!entity) throw ApiError.notFound();
  return entity;
}

/** Everything loaded for a page, assembled into entities. */
class Parts {
  constructor(
    private readonly viewer: LocalAccountRow | undefined,
    private readonly page: StatusPage,
    private readonly polls: PagePolls & { emojis?: Map<string, CustomEmojiEntity[]> },
    private readonly parts: Map<string, StaticParts>,
    private readonly accounts: Map<string, AccountEntity | null>,
  ) {}

  render(id: string): StatusEntity | undefined {
    const row = this.page.rows.get(id);
    if (!row) return undefined;
    let reblog: StatusEntity | null = null;
    if (row.reblog_of_id) {
      const original = this.render(row.reblog_of_id);
      if (!original || original.reblog) return undefined;
      reblog = original;
    }
    const account = this.accounts.get(row.account_id);
    if (!account) return undefined;
    return this.entity(row, account, reblog);
  }

  /**
   * Built key by key in Mastodon's order (clients do not care; people reading JSON side by side do), in one
   * pass: a page renders this 20–40 times per request, so no reordering copy afterwards.
   */
  private entity(row: PageRow, account: AccountEntity, reblog: StatusEntity | null): StatusEntity {
    const { page, viewer } = this;
    const parts = this.parts.get(row.id)!;
    const entity = {
      id: row.id,
      created_at: row.created_at.toISOString(),
      in_reply_to_id: row.in_reply_to_id,
      in_reply_to_account_id: row.in_reply_to_account_id,
      // Mastodon: an account a moderator marked sensitive has every post shown as sensitive — except to itself.
      sensitive: row.sensitive || (row.author_sensitized && viewer?.id !== row.account_id),
      spoiler_text: row.spoiler_text,
      visibility: row.visibility,
      language: row.language,
      uri: row.uri,
      url: row.url,
      replies_count: row.replies_count,
      reblogs_count: row.reblogs_count,
      favourites_count: row.favourites_count,
      edited_at: row.edited_at ? row.edited_at.toISOString() : null,
    } as StatusEntity;
    if (page.signedIn) {
      // Per-viewer flags exist only for a signed-in viewer, as in Mastodon.
      entity.favourited = row.v_favourited === true;
      entity.reblogged = row.v_reblogged === true;
      entity.muted = row.v_muted === true;
      entity.bookmarked = row.v_bookmarked === true;
      if (viewer && row.account_id === viewer.id && !row.reblog_of_id && row.visibility !== "direct") entity.pinned = row.v_pinned === true;
    }
    entity.content = row.content;
    entity.filtered = [];
    entity.reblog = reblog;
    if (parts.application && !row.reblog_of_id) entity.application = parts.application;
    entity.account = account;
    entity.media_attachments = parts.media;
    entity.mentions = parts.mentions;
    entity.tags = parts.tags;
    entity.emojis = parts.emojis;
    entity.card = parts.card;
    const poll = row.poll_id ? this.polls.polls.get(row.poll_id) : undefined;
    entity.poll = poll ? renderPoll(poll, viewer?.id ?? null, viewer ? (this.polls.ownVotes.get(poll.id) ?? []) : undefined, this.polls.emojis?.get(poll.id)) : null;
    return entity;
  }
}
