-- Webhooks (SPEC §11; docs/WEBHOOKS.md). The event service owns the
-- webhooks (who registered which, for which types) and hands over each
-- message to deliver; this schema keeps, per webhook id, where to deliver
-- and with which secret, the delivery outbox and every attempt.

-- `secret_sealed`: the secret encrypted with the key of
-- CALNDRO_WEBHOOK_KEY_FILE (standard base64 of nonce ‖ crypto_secretbox):
-- never in clear in the database.
CREATE TABLE webhook_endpoints (
  webhook_id    bigint PRIMARY KEY CHECK (webhook_id > 0),
  url           text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  secret_sealed text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per message (an occurrence for one webhook),
-- idempotent by message_id (the webhook-id header). Within one (webhook,
-- event) a message is sent only once none with a lower `sequence` is still
-- queued: version order, a later one waiting while an earlier one is
-- retried. `body` is sent and signed as it is. Leased to the dispatcher
-- replica sending it, as the mail outbox is (migration 0004).
CREATE TABLE webhook_messages (
  message_id      text PRIMARY KEY CHECK (length(message_id) BETWEEN 1 AND 64),
  webhook_id      bigint NOT NULL REFERENCES webhook_endpoints (webhook_id) ON DELETE CASCADE,
  event_id        bigint NOT NULL,
  sequence        bigint NOT NULL,
  type            text NOT NULL,
  version         bigint NOT NULL,
  occurred_at     timestamptz NOT NULL,
  body            text NOT NULL,
  state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner     text,
  lease_until     timestamptz,
  finished_at     timestamptz
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE state = 'queued';
CREATE INDEX webhook_messages_in_order ON webhook_messages (webhook_id, event_id, sequence) WHERE state = 'queued';
CREATE INDEX webhook_messages_finished ON webhook_messages (finished_at) WHERE state <> 'queued';

-- Every attempt, as GET /webhooks/WID/deliveries/ lists them (newest first).
CREATE TABLE webhook_attempts (
  id          bigserial PRIMARY KEY,
  webhook_id  bigint NOT NULL REFERENCES webhook_endpoints (webhook_id) ON DELETE CASCADE,
  message_id  text NOT NULL,
  type        text NOT NULL,
  version     bigint NOT NULL,
  attempt     integer NOT NULL CHECK (attempt > 0),
  at          timestamptz NOT NULL,
  status      integer,
  error       text
);
CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, id);
-- The retention purge (CALNDRO_RETENTION_DAYS).
CREATE INDEX webhook_attempts_at ON webhook_attempts (at);
