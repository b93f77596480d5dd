-- OAuth details the first schema lacked.

-- RFC 6749 §4.1.2: when an authorization code is presented a second time, the tokens issued from it should be
-- revoked (someone else may hold the code). To find them, a grant remembers the token its exchange made.
ALTER TABLE oauth_access_grants
  ADD COLUMN access_token_id bigint REFERENCES oauth_access_tokens (id) ON DELETE SET NULL;

-- The consent page is skipped when the person already holds a live token for the app with the same scopes.
CREATE INDEX oauth_access_tokens_user_app ON oauth_access_tokens (user_id, application_id) WHERE revoked_at IS NULL;

-- Expired browser sessions are swept by expiry.
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

COMMENT ON COLUMN oauth_applications.client_secret IS
  'sha256 (hex) of the client secret; the secret itself is shown once, in the POST /api/v1/apps answer';
