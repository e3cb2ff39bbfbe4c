-- Accepted notifies, written in the transaction of their NOTIFY log entries:
-- the relay (outbox_relay.h) hands each to the notification service with
-- `id` as its request id, so a hand-over repeated after a crash queues no
-- second mail. `request` is the QueueNotificationsRequest as JSON (proto3 mapping).
CREATE TABLE pending_notifications (
  id               text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
  event_id         bigint NOT NULL REFERENCES events (id),
  created_at       timestamptz NOT NULL,
  recipients       jsonb NOT NULL,
  -- The x-request-id of the notify, sent along with the hand-over so one id
  -- follows the request through every process's log.
  caller_request_id text NOT NULL DEFAULT '',
  request          jsonb NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'handed_over', 'refused')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  handed_over_at   timestamptz,
  last_error       text
);
-- The relay's claim: due pending rows, oldest first.
CREATE INDEX pending_notifications_due ON pending_notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX pending_notifications_event ON pending_notifications (event_id);
