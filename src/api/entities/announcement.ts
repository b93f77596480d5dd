/** Mastodon's Announcement entity, with its reactions ({name, count, me}) and, for a reader, `read`. */
import type { AnnouncementRow, ReactionCount } from "../../features/announcements/service";

export interface AnnouncementEntity {
  id: string;
  content: string;
  starts_at: string | null;
  ends_at: string | null;
  all_day: boolean;
  published_at: string;
  updated_at: string;
  read?: boolean;
  mentions: never[];
  statuses: never[];
  tags: never[];
  emojis: never[];
  reactions: { name: string; count: number; me?: boolean; url: null; static_url: null }[];
}

export function renderAnnouncement(row: AnnouncementRow & { read?: boolean }, reactions: ReactionCount[] = [], withMe = false): AnnouncementEntity {
  const entity: AnnouncementEntity = {
    id: row.id,
    content: row.content,
    starts_at: row.starts_at ? row.starts_at.toISOString() : null,
    ends_at: row.ends_at ? row.ends_at.toISOString() : null,
    all_day: row.all_day,
    published_at: row.published_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    mentions: [],
    statuses: [],
    tags: [],
    emojis: [],
    reactions: reactions
      .filter((r) => r.announcement_id === row.id)
      .map((r) => ({ name: r.name, count: r.count, ...(withMe && { me: r.me }), url: null, static_url: null })),
  };
  if (row.read !== undefined) entity.read = row.read;
  return entity;
}
