-- Schema `events` (search_path is set to it by apply_migrations).

CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  username      text UNIQUE,
  -- argon2id string; NULL for parties created from an email (no password).
  password_hash text,
  is_active     boolean NOT NULL DEFAULT false,
  is_staff      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- API tokens: only their SHA-256 is stored.
CREATE TABLE api_tokens (
  token_hash text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE events (
  id         bigserial PRIMARY KEY,
  title      text NOT NULL,
  created_by bigint NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL,
  -- Deleted events vanish from the API but keep their rows for the log.
  deleted_at timestamptz
);

CREATE TABLE event_parties (
  event_id bigint NOT NULL REFERENCES events (id),
  user_id  bigint NOT NULL REFERENCES users (id),
  position integer NOT NULL,
  PRIMARY KEY (event_id, user_id)
);
-- "Events I am a party of", in id order: the list endpoint's path.
CREATE INDEX event_parties_by_user ON event_parties (user_id, event_id);

CREATE TABLE slots (
  event_id    bigint NOT NULL REFERENCES events (id),
  begin_at    timestamptz NOT NULL,
  duration_us bigint NOT NULL CHECK (duration_us > 0),
  PRIMARY KEY (event_id, begin_at, duration_us)
);

CREATE TABLE log_entries (
  id         bigserial PRIMARY KEY,
  event_id   bigint NOT NULL REFERENCES events (id),
  at         timestamptz NOT NULL,
  occurrence text NOT NULL CHECK (occurrence IN ('UPDATE', 'NOTIFY', 'VIEW')),
  effector   text NOT NULL,
  -- Snapshot of the event's slots after the action: [[begin_epoch_us, duration_us], ...]
  slots      jsonb NOT NULL,
  data       jsonb NOT NULL
);
CREATE INDEX log_entries_by_event ON log_entries (event_id, id);

-- The audit log is append-only, whoever connects.
CREATE FUNCTION log_entries_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log entries are never updated or deleted';
END;
$$;
CREATE TRIGGER log_entries_append_only
  BEFORE UPDATE OR DELETE ON log_entries
  FOR EACH ROW EXECUTE FUNCTION log_entries_are_append_only();
CREATE TRIGGER log_entries_no_truncate
  BEFORE TRUNCATE ON log_entries
  FOR EACH STATEMENT EXECUTE FUNCTION log_entries_are_append_only();
