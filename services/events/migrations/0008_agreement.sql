-- Agree and reopen (SPEC §3): an event is open or agreed on one of its
-- slots. `agreed_slot` is that slot as [begin_epoch_us, duration_us] (the
-- form of the `slots` copies, migration 0002); NULL while open.
-- `calendar_sequence` is the SEQUENCE of the event's calendar entry: it grows
-- with each invitation or cancellation mailed, so calendar programs apply
-- them in order. `creator` is the creator's email, copied as the parties'
-- are (emails never change): who may agree, and the invitations' organizer,
-- without a join to users on every read.
ALTER TABLE events
  ADD COLUMN agreed_slot json,
  ADD COLUMN calendar_sequence bigint NOT NULL DEFAULT 0,
  ADD COLUMN creator text;

UPDATE events e SET creator = u.email FROM users u WHERE u.id = e.created_by;

ALTER TABLE events
  ALTER COLUMN creator SET NOT NULL,
  ADD CONSTRAINT events_agreed_slot_is_pair
    CHECK (agreed_slot IS NULL OR (json_typeof(agreed_slot) = 'array' AND json_array_length(agreed_slot) = 2)),
  ADD CONSTRAINT events_calendar_sequence_not_negative CHECK (calendar_sequence >= 0);

-- The log names the agreement as its own occurrence (SPEC §5).
ALTER TABLE log_entries DROP CONSTRAINT log_entries_occurrence_check;
ALTER TABLE log_entries ADD CONSTRAINT log_entries_occurrence_check
  CHECK (occurrence IN ('UPDATE', 'NOTIFY', 'VIEW', 'AGREE'));
