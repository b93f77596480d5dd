-- Inbound federation: a remote status (or boost) is known by its ActivityPub id. One row per id, so the same
-- Create arriving twice (two inboxes, a retry, a fetch racing a delivery) stores one status, and a Delete
-- that arrived first leaves a tombstone row (deleted_at set) that a late Create cannot bring back.
CREATE UNIQUE INDEX statuses_remote_uri ON statuses (uri) WHERE local = false;

-- Accept / Reject name our Follow by its id.
CREATE INDEX follow_requests_uri ON follow_requests (uri) WHERE uri IS NOT NULL;
