-- The ceiling for scenario (a): the statements calndro-events runs for one
-- GET /ID/ with an API token, in one transaction, as the service does
-- (services/events/user_store.cc "user_by_api_token", event_store.cc
-- "event_by_id" and "log_append"). Variables come from pgbench -D.
BEGIN;
SELECT u.id, u.email, u.username, coalesce(u.password_hash, ''), u.is_active, u.is_staff FROM events.api_tokens t JOIN events.users u ON u.id = t.user_id WHERE t.token_hash = :tokhash;
SELECT e.id, e.title, e.deleted_at IS NOT NULL, (SELECT coalesce(json_agg((SELECT u.email FROM events.users u WHERE u.id = p.user_id) ORDER BY p.position), '[]') FROM events.event_parties p WHERE p.event_id = e.id), (SELECT coalesce(json_agg(json_build_array((extract(epoch FROM s.begin_at) * 1000000)::bigint, s.duration_us)    ORDER BY s.begin_at, s.duration_us), '[]') FROM events.slots s WHERE s.event_id = e.id) FROM events.events e WHERE e.id = :eid;
INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data) VALUES (:eid, 'epoch'::timestamptz + :us * interval '1 microsecond', :occ, :effector, :slots::jsonb, '{}'::jsonb);
COMMIT;
