-- Benchmark seed: every party of event :event answers every one of its slots
-- (yes, maybe, no in turn, shifted by party), written on the event row as
-- AnswerSlots keeps them (migration 0010: party -> [[begin_us, duration_us,
-- answer], ...] in slot order). The event is made through the API first
-- (bench/run.sh: 100 parties, 30 slots); answering it through the API would
-- need a token for each of its 99 other parties.
--
--   psql -v ON_ERROR_STOP=1 -v event=42 -f bench_answers.sql
--
-- The test Migrations.BenchmarkSeedRunsOnTheMigratedSchema runs it on a
-- fresh schema.
UPDATE events.events e
SET answers = (
  SELECT json_object_agg(party.email, (
    SELECT json_agg(json_build_array(slot.value -> 0, slot.value -> 1,
                                     (ARRAY['yes', 'maybe', 'no'])[1 + (party.position + slot.position) % 3])
                    ORDER BY slot.position)
    FROM json_array_elements(e.slots) WITH ORDINALITY AS slot(value, position)))
  FROM json_array_elements_text(e.parties) WITH ORDINALITY AS party(email, position))
WHERE e.id = :event;
