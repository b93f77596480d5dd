/** Mastodon's MediaAttachment entity (REST::MediaAttachmentSerializer), field for field and in its order. */
import type { MediaRow } from "../../features/media/service";
import type { Storage } from "../../infra/storage/index";

export interface MediaAttachmentEntity {
  id: string;
  type: MediaRow["type"];
  url: string | null;
  preview_url: string | null;
  remote_url: string | null;
  preview_remote_url: string | null;
  text_url: string | null;
  meta: Record<string, unknown> | null;
  description: string | null;
  blurhash: string | null;
}

export function renderMediaAttachment(storage: Storage, row: MediaRow): MediaAttachmentEntity {
  // focus is kept in its own column and served inside meta, where clients look for it.
  const meta = { ...row.meta, ...(row.focus && { focus: row.focus }) };
  return {
    id: row.id,
    type: row.type,
    url: row.file_key ? storage.url(row.file_key) : null,
    preview_url: row.small_key ? storage.url(row.small_key) : null,
    remote_url: row.remote_url,
    preview_remote_url: null,
    text_url: null,
    meta: Object.keys(meta).length > 0 ? meta : null,
    description: row.description,
    blurhash: row.blurhash,
  };
}
