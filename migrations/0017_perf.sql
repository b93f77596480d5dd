-- Performance (issue 4): tell every process when a cached sign-in may have become wrong.
--
-- The API keeps token → account lookups in memory for at most a second (src/features/auth/tokens.ts). A
-- revoked token, a disabled / unapproved / changed user or a suspended account must stop working at once in
-- every process, including changes made by other processes (the operator CLI, workers, another web role):
-- these triggers NOTIFY woolly_auth on commit and every process listening drops its cache. Counter updates
-- on accounts (every post, follow) do not fire: they would only empty the cache for nothing.

CREATE FUNCTION woolly_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('woolly_auth', '');
  RETURN NULL;
END $$;

CREATE TRIGGER oauth_access_tokens_auth_changed
  AFTER UPDATE OF revoked_at, scopes, user_id OR DELETE ON oauth_access_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION woolly_auth_changed();

CREATE TRIGGER users_auth_changed
  AFTER UPDATE OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION woolly_auth_changed();

CREATE TRIGGER accounts_auth_changed
  AFTER UPDATE OF suspended_at, username, locked, display_name, note, fields, avatar_key, header_key OR DELETE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION woolly_auth_changed();
