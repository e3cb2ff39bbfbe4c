-- Deadline mails (SPEC §9): the reminders to the parties that have not
-- answered, `remind_before_us` ahead of `respond_by`, and the summary to the
-- creator at `respond_by`, each exactly once per deadline, whichever replica
-- runs the job (services/events/deadline_mails.h) and across any restart.
--
-- What has been mailed is recorded on the event row, as the `respond_by` it
-- was mailed for: `reminded_for` once the reminders of that deadline are
-- settled (queued, or dropped because the event was agreed or the deadline
-- had passed), `summarized_for` once its summary is. A new `respond_by`
-- differs from both, which re-arms the mails; the same `respond_by` set
-- again does not. The job writes these two columns under the event's row
-- lock, in the transaction that queues the mails and logs their NOTIFY
-- entries: all of it commits, or none. They are bookkeeping, not a change of
-- the event: its version stays.
ALTER TABLE events
  ADD COLUMN reminded_for timestamptz,
  ADD COLUMN summarized_for timestamptz;

-- When the next deadline mail of an event is due: the reminder time until
-- the reminders of this deadline are settled, then the deadline until the
-- summary is; NULL without a deadline, for a deleted event, or once both are
-- settled. deadline_plan.cc's deadline_mail_due_at() is the same rule.
-- IMMUTABLE, as a generated column needs: `timestamptz - interval` is only
-- STABLE because an interval of days or months depends on the time zone; an
-- interval of seconds alone (make_interval(secs => ...)) never does.
CREATE FUNCTION deadline_mail_due(respond_by timestamptz, remind_before_us bigint,
                                     deleted_at timestamptz, reminded_for timestamptz,
                                     summarized_for timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN respond_by IS NULL OR deleted_at IS NOT NULL OR summarized_for IS NOT DISTINCT FROM respond_by
      THEN NULL
    WHEN reminded_for IS NOT DISTINCT FROM respond_by THEN respond_by
    ELSE respond_by - make_interval(secs => remind_before_us / 1000000.0)
  END
$$;

-- Kept by PostgreSQL on every write of the row, whichever statement changes
-- the deadline, its lead or the marks: the job's query reads only the rows
-- due (the partial index), not every event with a deadline.
ALTER TABLE events ADD COLUMN deadline_mail_due_at timestamptz
  GENERATED ALWAYS AS (deadline_mail_due(respond_by, remind_before_us, deleted_at, reminded_for,
                                            summarized_for)) STORED;
CREATE INDEX events_deadline_mail_due ON events (deadline_mail_due_at, id)
  WHERE deadline_mail_due_at IS NOT NULL;
