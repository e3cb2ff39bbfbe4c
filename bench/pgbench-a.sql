-- The ceiling for scenario (a): the statements calndro-events runs for one
-- GET /ID/ with an API token, as the service runs them: each commits on its
-- own, no BEGIN/COMMIT around them (services/events/user_store.cc
-- "user_by_api_token", event_store.cc "event_by_id" and "log_append";
-- event_service.cc GetEvent, Atomicity::PerStatement). Variables come from
-- pgbench -D.
SELECT u.id, u.email, u.username, coalesce(u.password_hash, ''), u.is_active, u.is_staff FROM events.api_tokens t JOIN events.users u ON u.id = t.user_id WHERE t.token_hash = :tokhash AND t.expires_at > now();
SELECT e.id, e.title, e.deleted_at IS NOT NULL, e.parties, e.slots FROM events.events e WHERE e.id = :eid;
INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data) SELECT :eid, 'epoch'::timestamptz + :us * interval '1 microsecond', :occ, :effector, :slots::jsonb, '{}'::jsonb;
