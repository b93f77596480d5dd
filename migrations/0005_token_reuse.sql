-- Authorizing the same app with the same scopes again returns the same access token, as in Mastodon. Tokens
-- are looked up by their hash; this column keeps a copy sealed with a key derived from SECRET_KEY_BASE
-- (AES-256-GCM) so that the token can be handed out again. Operator-made and app-only tokens leave it null.
ALTER TABLE oauth_access_tokens ADD COLUMN token_sealed text;
