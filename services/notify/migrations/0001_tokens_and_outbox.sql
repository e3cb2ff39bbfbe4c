-- Schema `notify` (search_path is set to it by calndro::apply_migrations).
-- The notification service owns these tables; no other service reads them.

-- One row per QueueNotifications request: the idempotency key.
CREATE TABLE requests (
  request_id   text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 256),
  event_id     bigint NOT NULL CHECK (event_id > 0),
  -- sha256 of the request's canonical content: a request id reused for a
  -- different request is refused instead of silently answering the first.
  content_hash text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Email tokens. Only sha256(token) is stored; the fingerprint is a
-- separate, domain-separated hash prefix that is safe to show to anyone.
CREATE TABLE email_tokens (
  id          bigserial PRIMARY KEY,
  token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  fingerprint text NOT NULL,
  event_id    bigint NOT NULL CHECK (event_id > 0),
  party_email text NOT NULL,
  expires_at  timestamptz NOT NULL,
  request_id  text NOT NULL REFERENCES requests (request_id),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_tokens_request ON email_tokens (request_id);

-- The mail outbox. `body` is the mail text and carries the raw token in its
-- link: it is kept only until the mail is sent (or given up), then set to
-- NULL so the token no longer sits in the database.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  request_id      text NOT NULL REFERENCES requests (request_id),
  token_id        bigint NOT NULL REFERENCES email_tokens (id),
  event_id        bigint NOT NULL,
  recipient       text NOT NULL,
  sender          text NOT NULL,
  subject         text NOT NULL,
  body            text,
  state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text NOT NULL DEFAULT '',
  queued_at       timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  CHECK (state = 'queued' OR body IS NULL)
);
-- The dispatcher's claim query: due mails in id order.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_event ON outbox (event_id, id);
CREATE INDEX outbox_request ON outbox (request_id);
