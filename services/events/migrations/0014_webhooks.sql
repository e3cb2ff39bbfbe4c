-- Webhooks (SPEC §11; docs/WEBHOOKS.md). A registered user's webhooks for
-- the events the user created: this service owns who registered what, for
-- which types, and takes every decision on them; the notification service
-- keeps each one's URL and secret (encrypted) under the same id and
-- delivers. `types` holds the occurrence types delivered ('event.created',
-- ...).
CREATE TABLE webhooks (
  id         bigserial PRIMARY KEY,
  user_id    bigint NOT NULL,
  url        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  types      text[] NOT NULL CHECK (cardinality(types) > 0),
  created_at timestamptz NOT NULL
);
-- The write paths' lookup ("has the creator a webhook?") and the list.
CREATE INDEX webhooks_by_user ON webhooks (user_id, id);

-- One row per (occurrence, matching webhook), written in the transaction of
-- the write that made it: none is lost across a crash, none exists for a
-- write that rolled back. `event_row` is the event's row as that write left
-- it (to_jsonb of events.events), from which the relay
-- (services/events/webhook_relay.h) renders the event as its creator sees it
-- at that version, hands the message to the notification service and
-- deletes the row. Within one event, ids grow in commit order (each write
-- holds the event's row lock until it commits), which is the order of
-- delivery. No foreign key to events: its check would lock the event row
-- (it is locked already, by the write itself, but the relay's deletes
-- would then wait for it).
CREATE TABLE webhook_occurrences (
  id          bigserial PRIMARY KEY,
  webhook_id  bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id    bigint NOT NULL,
  version     bigint NOT NULL,
  type        text NOT NULL,
  occurred_at timestamptz NOT NULL,
  event_row   jsonb NOT NULL
);
CREATE INDEX webhook_occurrences_by_webhook ON webhook_occurrences (webhook_id);

-- Which occurrence a new version of an existing event is, from the row
-- before and after (SPEC §11's types, in docs/WEBHOOKS.md's order). NULL:
-- none (a new deadline or reminder lead alone, or slots set to what they
-- were).
CREATE FUNCTION webhook_occurrence_type(before events, after events) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN after.deleted_at IS NOT NULL AND before.deleted_at IS NULL THEN 'event.deleted'
    WHEN after.agreed_slot IS NOT NULL AND before.agreed_slot IS NULL THEN 'event.agreed'
    WHEN after.agreed_slot IS NULL AND before.agreed_slot IS NOT NULL THEN 'event.reopened'
    WHEN after.title IS DISTINCT FROM before.title OR after.slots::text IS DISTINCT FROM before.slots::text
      THEN 'event.updated'
    WHEN after.answers::text IS DISTINCT FROM before.answers::text THEN 'event.answered'
  END
$$;

-- A trigger rather than a clause in each write statement: every statement
-- that gives an event a new version (create, PATCH, answers, agree,
-- reopen, delete, and any added later) records its occurrences in its own
-- transaction, one statement each as before (no extra round trip). When
-- the creator has no webhook it costs one probe of webhooks_by_user that
-- finds nothing. event.notified raises no version: NotifyParties records it
-- itself (webhook_store.cc's webhook_record_notified), in its transaction.
CREATE FUNCTION record_webhook_occurrences() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  kind text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    kind := 'event.created';
  ELSE
    kind := events.webhook_occurrence_type(OLD, NEW);
  END IF;
  IF kind IS NOT NULL THEN
    INSERT INTO events.webhook_occurrences (webhook_id, event_id, version, type, occurred_at, event_row)
    SELECT w.id, NEW.id, NEW.version, kind, clock_timestamp(), to_jsonb(NEW)
    FROM events.webhooks w
    WHERE w.user_id = NEW.created_by AND kind = ANY (w.types);
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_webhooks_on_create
  AFTER INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION record_webhook_occurrences();
CREATE TRIGGER events_webhooks_on_change
  AFTER UPDATE OF version ON events
  FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
  EXECUTE FUNCTION record_webhook_occurrences();
