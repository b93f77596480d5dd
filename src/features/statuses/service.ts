/**
 * Statuses: posting (Mastodon's PostStatusService), deleting (RemoveStatusService), and loading a page of
 * statuses for rendering. Every change is one transaction; its event is published after the commit.
 *
 * Counters follow Mastodon (Status#increment_counter_caches): direct posts do not count in the author's
 * statuses_count, and only public / unlisted replies count in the parent's replies_count — a private reply
 * must not show up as a number on a post strangers can see.
 */
import type { AppContext } from "../../infra/context";
import type { Db, Tx } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { findMentionableLocalAccounts, postingDefaults, type LocalAccountRow } from "../accounts/service";
import { publishEvent } from "../events/publish";
import { findRemoteByHandle } from "../federation/store";
import { attachMedia, detachMediaFromStatus } from "../media/service";
import { extractHashtags, extractMentions, handleKey, statusHtml } from "../text/mentions-and-tags";
import { checkMediaCount, checkPoll, checkText, checkVisibility, normaliseLanguage, type ComposeInput } from "./compose";
import * as store from "./store";
import type { Visibility } from "./visibility";

export type { ComposeInput } from "./compose";

const MAX_ID = 2n ** 63n - 1n;

/** A well-formed status id (positive bigint); anything else names no status (404). */
export function isStatusId(text: unknown): text is string {
  if (typeof text !== "string" || !/^[0-9]{1,19}$/.test(text) || /^0+$/.test(text)) return false;
  // Only 19 digits can pass 2^63 - 1; shorter ones are in range without a BigInt (a page checks 20–40 ids).
  return text.length < 19 || BigInt(text) <= MAX_ID;
}

export function statusUris(baseUrl: string, username: string, id: string) {
  const { uriPrefix, urlPrefix } = uriPrefixes(baseUrl, username);
  return { uri: `${uriPrefix}${id}`, url: `${urlPrefix}${id}` };
}

/** What statusUris puts before the id (the insert appends the id it draws). */
function uriPrefixes(baseUrl: string, username: string) {
  return { uriPrefix: `${baseUrl}/users/${username}/statuses/`, urlPrefix: `${baseUrl}/@${username}/` };
}

// ---- loading a page for rendering ----

/**
 * A page of statuses as one query reads it (store.findPage): the visible statuses asked for plus the visible
 * originals of boosts among them, each with its cache version and, for a signed-in viewer, the viewer's
 * flags. What does not change with the viewer is loaded separately, only for the statuses whose cached
 * rendering is missing or outdated (loadStaticParts); polls change with every vote and are read per page
 * (loadPolls). So a page costs one query when everything is cached, never one per status.
 */
export interface StatusPage {
  rows: Map<string, store.PageRow>;
  /** Whether the flags (favourited, reblogged…) were read: only for a signed-in viewer, as in Mastodon. */
  signedIn: boolean;
}

export interface StaticParts {
  mentions: Map<string, store.MentionRow[]>;
  tags: Map<string, string[]>;
  applications: Map<string, { name: string; website: string | null }>;
}

export interface PagePolls {
  polls: Map<string, store.PollRow>;
  ownVotes: Map<string, number[]>;
}

function groupBy<T, V>(rows: T[], key: (row: T) => string, value: (row: T) => V): Map<string, V[]> {
  const map = new Map<string, V[]>();
  for (const row of rows) {
    const list = map.get(key(row)) ?? [];
    list.push(value(row));
    map.set(key(row), list);
  }
  return map;
}

export async function loadStatusPage(sql: Db, viewerId: string | null, ids: string[] | store.SqlCondition, where?: store.SqlCondition): Promise<StatusPage> {
  const rows = await store.findPage(sql, viewerId, Array.isArray(ids) ? [...new Set(ids)] : ids, where);
  return { rows: new Map(rows.map((s) => [s.id, s])), signedIn: viewerId !== null };
}

/** Mentions, tags and applications of some statuses (those whose cached rendering is missing). */
export async function loadStaticParts(sql: Db, rows: Pick<store.StatusRow, "id" | "application_id">[]): Promise<StaticParts> {
  const statusIds = rows.map((s) => s.id);
  const appIds = [...new Set(rows.map((s) => s.application_id).filter((id): id is string => id !== null))];
  const [mentions, tags, apps] = await Promise.all([store.mentionsOf(sql, statusIds), store.tagsOf(sql, statusIds), store.applicationsByIds(sql, appIds)]);
  return {
    mentions: groupBy(mentions, (m) => m.status_id, (m) => m),
    tags: groupBy(tags, (t) => t.status_id, (t) => t.name),
    applications: new Map(apps.map((a) => [a.id, { name: a.name, website: a.website }])),
  };
}

/** The polls of a page with their current tallies, and the viewer's own votes in them. */
export async function loadPolls(sql: Db, viewerId: string | null, rows: Pick<store.StatusRow, "poll_id">[]): Promise<PagePolls> {
  const pollIds = rows.map((s) => s.poll_id).filter((id): id is string => id !== null);
  if (pollIds.length === 0) return { polls: new Map(), ownVotes: new Map() };
  const [polls, votes] = await Promise.all([store.pollsByIds(sql, pollIds), viewerId ? store.pollVotesOf(sql, viewerId, pollIds) : Promise.resolve([])]);
  return { polls: new Map(polls.map((p) => [p.id, p])), ownVotes: groupBy(votes, (v) => v.poll_id, (v) => v.choice) };
}

/** A status the viewer may see, or 404 (unknown, malformed and invisible ids all look the same). */
export async function findVisibleStatus(sql: Db, viewerId: string | null, id: string): Promise<store.StatusRow> {
  const [row] = isStatusId(id) ? await store.findVisible(sql, viewerId, [id]) : [];
  if (!row) throw ApiError.notFound();
  return row;
}

/** The caller's own live status, or 404 (someone else's status is "not found" for changes too). */
export async function findOwnStatus(sql: Db, author: LocalAccountRow, id: string): Promise<store.StatusRow> {
  const row = isStatusId(id) ? await store.findLive(sql, id) : undefined;
  if (!row || row.account_id !== author.id) throw ApiError.notFound();
  return row;
}

// ---- text → HTML, mentions, tags ----

export interface RenderedText {
  content: string;
  mentionIds: string[];
  tags: { name: string; display: string }[];
}

/** Mentions of local accounts (`@user`, `@user@LOCAL_DOMAIN`) are linked and recorded; others stay text. */
export async function renderText(context: AppContext, db: Db, text: string): Promise<RenderedText> {
  const localDomain = context.config.localDomain.toLowerCase();
  const mentions = extractMentions(text).filter((m) => m.domain === null || m.domain.toLowerCase() === localDomain);
  const accounts = await findMentionableLocalAccounts(db, mentions.map((m) => m.username));
  const byName = new Map(accounts.map((a) => [a.username.toLowerCase(), a]));
  const targets = new Map<string, { url: string; username: string }>();
  const mentionIds = new Set<string>();
  for (const m of mentions) {
    const account = byName.get(m.username.toLowerCase());
    if (!account) continue;
    targets.set(handleKey(m.username, m.domain), { url: account.url ?? account.uri, username: account.username });
    mentionIds.add(account.id);
  }
  // Remote accounts we already know are mentioned too, so the post is addressed and delivered to them
  // (features/federation/delivery.ts); unknown handles stay text (resolving them is the search's job).
  for (const m of extractMentions(text)) {
    if (m.domain === null || m.domain.toLowerCase() === localDomain) continue;
    const remote = await findRemoteByHandle(db, m.username, m.domain);
    if (!remote || remote.suspended_at) continue;
    targets.set(handleKey(m.username, m.domain), { url: remote.url ?? remote.uri, username: remote.username });
    mentionIds.add(remote.id);
  }
  return {
    content: statusHtml(text, { mentions: targets, baseUrl: context.config.baseUrl }),
    mentionIds: [...mentionIds],
    tags: extractHashtags(text),
  };
}

// ---- posting ----

const countsForAccount = (visibility: Visibility) => visibility !== "direct";
const countsAsReply = (visibility: Visibility) => visibility === "public" || visibility === "unlisted";

export interface PostOptions {
  /** Runs first inside the posting transaction (the scheduler unschedules the row there); throw to abort. */
  within?: (tx: Tx) => Promise<void>;
}

export async function postStatus(context: AppContext, author: LocalAccountRow, input: ComposeInput, options: PostOptions = {}): Promise<{ statusId: string }> {
  const defaults = postingDefaults(author.user);
  const text = input.status ?? "";
  const spoilerText = input.spoiler_text ?? "";
  const mediaIds = input.media_ids ?? [];
  const visibility = checkVisibility(input.visibility) ?? defaults.privacy;
  checkMediaCount(mediaIds, input.poll !== undefined);
  const poll = input.poll ? checkPoll(input.poll) : undefined;
  checkText(text, spoilerText, mediaIds.length > 0 || poll !== undefined, context.config.statuses.maxCharacters);

  let parent: store.StatusRow | undefined;
  if (input.in_reply_to_id !== undefined && input.in_reply_to_id !== "") {
    parent = await findVisibleStatus(context.sql, author.id, input.in_reply_to_id);
    // A reply to a boost is a reply to the boosted post.
    if (parent.reblog_of_id) parent = await findVisibleStatus(context.sql, author.id, parent.reblog_of_id);
  }

  const statusId = await context.sql.begin(async (tx) => {
    await options.within?.(tx);
    const rendered = await renderText(context, tx, text);
    const id = await store.insertLocalStatus(tx, {
      accountId: author.id,
      ...uriPrefixes(context.config.baseUrl, author.username),
      text,
      content: rendered.content,
      spoilerText,
      // A content warning makes a post sensitive whatever was asked (Mastodon's Status#set_sensitive).
      sensitive: (input.sensitive ?? defaults.sensitive) || spoilerText !== "",
      visibility,
      language: normaliseLanguage(input.language, defaults.language),
      inReplyToId: parent?.id ?? null,
      inReplyToAccountId: parent?.account_id ?? null,
      conversationId: parent?.conversation_id ?? null,
      applicationId: input.application_id ?? null,
      countsForAuthor: countsForAccount(visibility),
    });
    await store.insertMentions(tx, id, rendered.mentionIds);
    await store.linkTags(tx, id, rendered.tags);
    if (poll) await store.insertPoll(tx, { accountId: author.id, statusId: id, ...poll });
    await attachMedia(tx, author.id, id, mediaIds);
    if (parent && countsAsReply(visibility)) await store.bumpRepliesCount(tx, parent.id, 1);
    return id;
  });
  await publishEvent(context, { type: "status.created", statusId, accountId: author.id });
  return { statusId };
}

// ---- deleting ----

/**
 * Soft-delete the caller's own status (or boost). Its media is unattached so a redraft can attach it again
 * (the orphan sweep removes what is not reused); boosts of it go with it.
 */
export async function deleteStatus(context: AppContext, author: LocalAccountRow, id: string): Promise<void> {
  const status = await findOwnStatus(context.sql, author, id);
  const removedBoosts = await context.sql.begin(async (tx) => {
    const row = await store.findLiveForUpdate(tx, status.id);
    if (!row) throw ApiError.notFound(); // deleted meanwhile
    await store.markDeleted(tx, row.id);
    if (countsForAccount(row.visibility)) await store.bumpAccountStatuses(tx, row.account_id, -1);
    if (row.in_reply_to_id && countsAsReply(row.visibility)) await store.bumpRepliesCount(tx, row.in_reply_to_id, -1);
    if (row.reblog_of_id) await store.bumpReblogsCount(tx, row.reblog_of_id, -1);
    await detachMediaFromStatus(tx, row.id);
    const boosts = await store.markReblogsDeleted(tx, row.id);
    for (const boost of boosts) await store.bumpAccountStatuses(tx, boost.account_id, -1);
    return boosts;
  });
  await publishEvent(context, { type: "status.deleted", statusId: status.id, accountId: author.id, visibility: status.visibility, reblogOfId: status.reblog_of_id });
  for (const boost of removedBoosts) {
    await publishEvent(context, { type: "status.deleted", statusId: boost.id, accountId: boost.account_id, visibility: status.visibility, reblogOfId: status.id });
  }
}
