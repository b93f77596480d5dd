-- Media chosen for a scheduled post waits on that post (it is on no status yet): the orphan sweep must leave
-- it alone, and no other post may take it. Publishing deletes the scheduled row, which frees the media just
-- before the new status attaches it, in the same transaction.
ALTER TABLE media_attachments
  ADD COLUMN scheduled_status_id bigint REFERENCES scheduled_statuses (id) ON DELETE SET NULL;
CREATE INDEX media_attachments_scheduled ON media_attachments (scheduled_status_id) WHERE scheduled_status_id IS NOT NULL;
