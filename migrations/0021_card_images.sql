-- Preview card images through the media pipeline (src/features/media/card-images.ts). A card's image_url
-- stays the origin's address; clients get /media_proxy/cards/:id/:image_token instead, and the first view
-- fetches, checks and resizes it to a card-sized preview. Until then nothing is stored.
--
-- image_token: the unguessable part of the proxy URL (card ids are time-sortable).
-- image_source_url: the image_url the cached file was made from; a card refreshed with another image no
--   longer matches it, and its next view replaces the file.
-- image_accessed_at: last view (at most once an hour), the storage budget's LRU order, shared with
--   media_attachments' cached remote copies.
ALTER TABLE preview_cards
  ADD COLUMN image_token text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', ''),
  ADD COLUMN image_file_key text,
  ADD COLUMN image_content_type text,
  ADD COLUMN image_file_size bigint NOT NULL DEFAULT 0,
  ADD COLUMN image_source_url text,
  ADD COLUMN image_blurhash text,
  ADD COLUMN image_accessed_at timestamptz;

CREATE INDEX preview_cards_image_cache ON preview_cards (image_accessed_at, id) WHERE image_file_key IS NOT NULL;
