-- Benchmark seed: :count events created by :'creator', shaped as CreateEvent
-- writes them (parties and slots on the event row, one event_parties row a
-- party, the creation log entry), each with one of 1,000 other parties
-- (p0..p999@bulk.test) and 2 slots; :'party' is the third party of every
-- :every-th event. The creator and :'party' must exist in events.users.
--
--   psql -v ON_ERROR_STOP=1 -v count=1000 -v creator=bulk@bench.test \
--        -v party=hank@bench.test -v every=1 -f bench_events.sql
--
-- It writes the tables the migrations in ../migrations make: the test
-- Migrations.BenchmarkSeedRunsOnTheMigratedSchema runs it on a fresh schema.
INSERT INTO events.users (email) SELECT 'p' || i || '@bulk.test' FROM generate_series(0, 999) AS i
  ON CONFLICT (email) DO NOTHING;
CREATE TEMP TABLE bench_batch AS
  SELECT i, nextval('events.events_id_seq') AS id FROM generate_series(1, :count) AS i;
INSERT INTO events.events (id, title, created_by, creator, created_at, parties, slots)
  SELECT b.id, 'bulk ' || b.i, (SELECT id FROM events.users WHERE email = :'creator'), :'creator', now(),
         CASE WHEN b.i % :every = 0
              THEN json_build_array(:'creator', 'p' || (b.i % 1000) || '@bulk.test', :'party')
              ELSE json_build_array(:'creator', 'p' || (b.i % 1000) || '@bulk.test') END,
         (SELECT json_agg(json_build_array((extract(epoch FROM t) * 1000000)::bigint, 3600000000) ORDER BY t)
          FROM (SELECT timestamptz '2031-01-01 09:00Z' + (b.i % 300) * interval '1 day' + k * interval '1 hour'
                FROM generate_series(0, 1) AS k) AS s(t))
  FROM bench_batch b;
INSERT INTO events.event_parties (event_id, user_id, position)
  SELECT b.id, (SELECT id FROM events.users WHERE email = :'creator'), 1 FROM bench_batch b;
INSERT INTO events.event_parties (event_id, user_id, position)
  SELECT b.id, u.id, 2 FROM bench_batch b JOIN events.users u ON u.email = 'p' || (b.i % 1000) || '@bulk.test';
INSERT INTO events.event_parties (event_id, user_id, position)
  SELECT b.id, (SELECT id FROM events.users WHERE email = :'party'), 3 FROM bench_batch b WHERE b.i % :every = 0;
INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data)
  SELECT b.id, now(), 'UPDATE', :'creator', e.slots::jsonb, '{"opened": "created"}'::jsonb
  FROM bench_batch b JOIN events.events e ON e.id = b.id;
ANALYZE;
