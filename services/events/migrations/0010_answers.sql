-- Answers, a deadline and reminders (SPEC §9).
--
-- `answers` is a JSON copy on the event row, like `parties` and `slots`
-- (migration 0002): {"party@email": [[begin_epoch_us, duration_us,
-- "yes"|"maybe"|"no"], ...], ...}, each party's list in slot order, only
-- current slots, a party without any answer absent. On the row rather than
-- in a table of its own: an answer changes what the API shows of the event
-- (tally, best slot) and raises its version, so it takes the event's row
-- lock anyway; one row per version keeps ETag/If-Match and the one-row reads
-- of detail and list pages as they are, and a PATCH of the slots drops the
-- answers of removed slots in the same statement (answers_within below).
-- The answers given stay in the audit log (ANSWER entries).
--
-- `respond_by`: after it only the creator and staff answer; NULL: no
-- deadline. `remind_before_us`: how long before `respond_by` the parties
-- that have not answered are reminded (microseconds, as `slots` holds
-- durations; 24 h unless set). `hide_answers`: parties other than the
-- creator (and staff) see only their own row of `answers`; fixed at creation.
ALTER TABLE events
  ADD COLUMN answers json NOT NULL DEFAULT '{}',
  ADD COLUMN respond_by timestamptz,
  ADD COLUMN remind_before_us bigint NOT NULL DEFAULT 86400000000,
  ADD COLUMN hide_answers boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT events_answers_is_object CHECK (json_typeof(answers) = 'object'),
  ADD CONSTRAINT events_remind_before_positive CHECK (remind_before_us > 0);

-- `answers` without the answers for slots that are not in `slots` (a JSON
-- slot set as the `slots` column holds it), and without the parties left
-- with none: what a PATCH of the slots keeps. A slot added back later is
-- pending for everyone (its answers are gone from the row).
CREATE FUNCTION answers_within(answers json, slots json) RETURNS json
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT coalesce(json_object_agg(party.key, kept.answers), '{}')
  FROM json_each(answers) AS party
  CROSS JOIN LATERAL (
    SELECT json_agg(a.answer ORDER BY a.position) AS answers
    FROM json_array_elements(party.value) WITH ORDINALITY AS a(answer, position)
    WHERE EXISTS (SELECT 1 FROM json_array_elements(slots) AS s(slot)
                  WHERE (s.slot->>0)::bigint = (a.answer->>0)::bigint
                    AND (s.slot->>1)::bigint = (a.answer->>1)::bigint)
  ) AS kept
  WHERE kept.answers IS NOT NULL
$$;

-- The log names answers as their own occurrence (SPEC §5).
ALTER TABLE log_entries DROP CONSTRAINT log_entries_occurrence_check;
ALTER TABLE log_entries ADD CONSTRAINT log_entries_occurrence_check
  CHECK (occurrence IN ('UPDATE', 'NOTIFY', 'VIEW', 'AGREE', 'ANSWER'));
