/**
 * Mastodon's MediaAttachment entity (REST::MediaAttachmentSerializer), field for field and in its order.
 * Remote media (remote_url set) is always served through our proxy, cached or not: the proxy fetches it on
 * first view and records views, which is what the cache budget evicts by. remote_url is the origin's URL.
 */
import { mediaProxyUrl } from "../../features/media/remote";
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
  const remote = row.remote_url !== null;
  // Before the first view we cannot know whether a video will have a preview; an image always has one.
  const hasPreview = row.small_key !== null || (remote && row.type === "image");
  return {
    id: row.id,
    type: row.type,
    url: remote ? mediaProxyUrl(storage.instanceUrl, row, "original") : row.file_key ? storage.url(row.file_key) : null,
    preview_url: !hasPreview ? null : remote ? mediaProxyUrl(storage.instanceUrl, row, "small") : storage.url(row.small_key!),
    remote_url: row.remote_url,
    preview_remote_url: null,
    text_url: null,
    meta: Object.keys(meta).length > 0 ? meta : null,
    description: row.description,
    blurhash: row.blurhash,
  };
}
