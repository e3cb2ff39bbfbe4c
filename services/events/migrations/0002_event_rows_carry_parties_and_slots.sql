-- The event row carries what the API shows of it: its parties' emails (in
-- order) and its slots ([[begin_epoch_us, duration_us], ...], sorted), as
-- the service writes them. A detail or a page of the list then reads event
-- rows only, instead of aggregating party and slot rows per event, and a
-- PATCH rewrites one row instead of deleting and inserting slot rows
-- (docs/PERFORMANCE.md). event_parties stays: it is the index behind "the
-- events I am a party of" and the foreign key to users. Emails never change,
-- so the copy cannot go stale.
ALTER TABLE events ADD COLUMN parties json, ADD COLUMN slots json;

UPDATE events e SET
  parties = (SELECT coalesce(json_agg(u.email ORDER BY p.position), '[]')
             FROM event_parties p JOIN users u ON u.id = p.user_id WHERE p.event_id = e.id),
  slots = (SELECT coalesce(json_agg(json_build_array((extract(epoch FROM s.begin_at) * 1000000)::bigint, s.duration_us)
                                    ORDER BY s.begin_at, s.duration_us), '[]')
           FROM slots s WHERE s.event_id = e.id);

ALTER TABLE events
  ALTER COLUMN parties SET NOT NULL,
  ALTER COLUMN slots SET NOT NULL,
  ADD CONSTRAINT events_parties_is_array CHECK (json_typeof(parties) = 'array'),
  ADD CONSTRAINT events_slots_is_array CHECK (json_typeof(slots) = 'array');

DROP TABLE slots;
