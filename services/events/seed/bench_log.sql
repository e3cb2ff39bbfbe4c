-- Benchmark seed: grows the log of event :event to :total entries with VIEW
-- entries by :'effector', as a GET /ID/ writes them, after the entry its
-- creation wrote (whose slots they repeat).
--
--   psql -v ON_ERROR_STOP=1 -v event=42 -v total=10000 -v effector=alice@bench.test -f bench_log.sql
--
-- It writes the tables the migrations in ../migrations make: the test
-- Migrations.BenchmarkSeedRunsOnTheMigratedSchema runs it on a fresh schema.
INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data)
  SELECT :event, now() + i * interval '1 millisecond', 'VIEW', :'effector',
         (SELECT slots FROM events.log_entries WHERE event_id = :event ORDER BY id LIMIT 1), '{}'::jsonb
  FROM generate_series(2, :total) AS i;
