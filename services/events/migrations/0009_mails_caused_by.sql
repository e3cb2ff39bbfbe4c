-- The hourly mail limit (SPEC §7) counts every mail a request causes (a
-- notify; the invitation or cancellation of an agree, a reopen, a deletion or
-- a new title of an agreed event) against the caller who caused it and the
-- event. Every such request writes its outbox row here, under the event's
-- row lock, so the rows are the count: `caused_by` is that caller's email
-- (the effector of the request's log entry), the row's recipients its mails.
-- Rows queued before this migration name no one and count for no one (at
-- most during the hour after the upgrade).
ALTER TABLE pending_notifications ADD COLUMN caused_by text;
CREATE INDEX pending_notifications_caused_by ON pending_notifications (event_id, caused_by, created_at)
  WHERE caused_by IS NOT NULL;

-- The limit no longer counts NOTIFY entries; nothing else reads by this index.
DROP INDEX log_entries_notify_by_effector;
