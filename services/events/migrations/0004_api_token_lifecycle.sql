-- API keys expire, can be revoked one by one (by id, which is not a secret),
-- and die with the password or the activation of their user.
ALTER TABLE api_tokens
  ADD COLUMN id bigserial NOT NULL UNIQUE,
  ADD COLUMN expires_at timestamptz;
-- Keys minted before keys expired get the default lifetime from their
-- creation, but at least a day from now, so no client loses its key
-- without notice.
UPDATE api_tokens SET expires_at = greatest(created_at + interval '30 days', now() + interval '1 day');
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
-- The purge of expired keys.
CREATE INDEX api_tokens_by_expiry ON api_tokens (expires_at);

-- A new password, or a deactivation, revokes every key of the user, whoever
-- changes the row (calndro-admin, or an operator with psql).
CREATE FUNCTION api_tokens_die_with_their_password() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM events.api_tokens WHERE user_id = NEW.id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER users_revoke_api_tokens
  AFTER UPDATE OF password_hash, is_active ON users
  FOR EACH ROW
  WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash OR (OLD.is_active AND NOT NEW.is_active))
  EXECUTE FUNCTION api_tokens_die_with_their_password();

-- The per-sender notify limit counts an event's recent NOTIFY entries by
-- one effector; without this it would read every entry of the event (VIEWs
-- included).
CREATE INDEX log_entries_notify_by_effector ON log_entries (event_id, effector, at) WHERE occurrence = 'NOTIFY';
