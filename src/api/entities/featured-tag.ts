/** Mastodon's FeaturedTag entity: statuses_count is sent as a string, last_status_at as a date (or null). */
import type { FeaturedTagRow } from "../../features/featured-tags/service";
import type { Config } from "../../infra/config";

export interface FeaturedTagEntity {
  id: string;
  name: string;
  url: string;
  statuses_count: string;
  last_status_at: string | null;
}

export function renderFeaturedTag(config: Pick<Config, "baseUrl">, row: FeaturedTagRow, username: string): FeaturedTagEntity {
  return {
    id: row.id,
    name: row.display_name,
    url: `${config.baseUrl}/@${username}/tagged/${encodeURIComponent(row.name)}`,
    statuses_count: String(row.statuses_count),
    last_status_at: row.last_status_at ? row.last_status_at.toISOString().slice(0, 10) : null,
  };
}
