/**
 * Mastodon's Tag entity (REST::TagSerializer) for the tag endpoints: name as first written, the tag page URL,
 * usage history (empty until trends exist) and, for a signed-in viewer, whether they follow it.
 */
import type { TagRow } from "../../features/graph/service";
import type { Config } from "../../infra/config";

export interface TagEntity {
  id: string;
  name: string;
  url: string;
  history: { day: string; uses: string; accounts: string }[];
  following?: boolean;
}

export function renderTag(config: Pick<Config, "baseUrl">, tag: TagRow, following?: boolean): TagEntity {
  const entity: TagEntity = { id: tag.id, name: tag.display_name, url: `${config.baseUrl}/tags/${encodeURIComponent(tag.name)}`, history: [] };
  if (following !== undefined) entity.following = following;
  return entity;
}
