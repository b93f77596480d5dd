-- Remote media, cached lazily (src/features/media/remote.ts). Rows for remote attachments carry remote_url
-- and no files until someone views them through /media_proxy; the cached copy may be evicted again later
-- (retention period, storage budget), which puts the row back to file_key NULL.
--
-- proxy_token: the unguessable part of a proxy URL. Ids are time-sortable and so guessable; without the
-- token anyone could walk ids to fetch followers-only media or fill the cache with everything we know of.
-- cache_accessed_at: when the cached copy was last viewed (written at most once an hour per attachment),
-- the order in which the storage budget evicts.
ALTER TABLE media_attachments
  ADD COLUMN proxy_token text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', ''),
  ADD COLUMN cache_accessed_at timestamptz;

-- The eviction order over cached remote files only; local uploads are never in it.
CREATE INDEX media_attachments_remote_cache ON media_attachments (cache_accessed_at, id)
  WHERE remote_url IS NOT NULL AND file_key IS NOT NULL;
