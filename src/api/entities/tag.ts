/**
 * Mastodon's Tag entity (REST::TagSerializer) for the tag endpoints: name as first written, the tag page URL,
 * usage history (the last 7 days, newest first, as counted by the trends job — features/trends) and, for a
 * signed-in viewer, whether they follow it.
 */
import type { TagRow } from "../../features/graph/service";
import { historyWindow, tagHistories, type HistoryEntry } from "../../features/trends/service";
import type { Config } from "../../infra/config";
import type { AppContext } from "../../infra/context";

export interface TagEntity {
  id: string;
  name: string;
  url: string;
  history: HistoryEntry[];
  following?: boolean;
}

/** One tag; without `history` the week shows zeros (use renderTags to load the counts). */
export function renderTag(config: Pick<Config, "baseUrl">, tag: TagRow, following?: boolean, history: HistoryEntry[] = historyWindow([])): TagEntity {
  const entity: TagEntity = { id: tag.id, name: tag.display_name, url: `${config.baseUrl}/tags/${encodeURIComponent(tag.name)}`, history };
  if (following !== undefined) entity.following = following;
  return entity;
}

/** Several tags with their usage history, in one query. `following` is per tag id, or one answer for all. */
export async function renderTags(
  context: Pick<AppContext, "sql" | "config">,
  tags: TagRow[],
  following?: boolean | ((tagId: string) => boolean | undefined),
): Promise<TagEntity[]> {
  const histories = await tagHistories(context.sql, tags.map((t) => t.id));
  return tags.map((tag) => renderTag(context.config, tag, typeof following === "function" ? following(tag.id) : following, histories.get(tag.id)));
}
