-- Media attachments: uploads by local accounts (and, later, cached copies of remote media). Files live in
-- storage (local directory or S3); rows hold their keys. status_id has no foreign key yet: statuses come
-- later, and the migration that adds them adds the constraint.

CREATE TABLE media_attachments (
  id              bigint PRIMARY KEY DEFAULT woolly_id(),
  account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id       bigint,
  type            text NOT NULL DEFAULT 'unknown' CHECK (type IN ('unknown', 'image', 'gifv', 'video', 'audio')),
  file_key        text,                 -- the processed original; null while processing
  small_key       text,                 -- the preview image, when there is one
  upload_key      text,                 -- the raw upload (private) waiting for the media.process job
  content_type    text,                 -- of the processed original
  file_size       bigint NOT NULL DEFAULT 0 CHECK (file_size >= 0),
  small_file_size bigint NOT NULL DEFAULT 0 CHECK (small_file_size >= 0),
  meta            jsonb NOT NULL DEFAULT '{}',
  description     text CHECK (char_length(description) <= 1500),
  blurhash        text,
  focus           jsonb,                -- {"x": -1..1, "y": -1..1}, null until set
  processing      text NOT NULL DEFAULT 'done' CHECK (processing IN ('pending', 'done', 'failed')),
  remote_url      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_attachments_account ON media_attachments (account_id, id);
CREATE INDEX media_attachments_status ON media_attachments (status_id) WHERE status_id IS NOT NULL;
-- The orphan sweep: unattached uploads by age.
CREATE INDEX media_attachments_unattached ON media_attachments (created_at) WHERE status_id IS NULL;
