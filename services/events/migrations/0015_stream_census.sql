-- SPEC §11 limits open change streams per user or email token across the
-- whole deployment, not per replica. Each replica of the event service keeps
-- here how many streams each caller holds on it (events/stream_census.h):
-- written when it admits a stream, refreshed every few seconds with all its
-- counts. A replica that stops refreshing (a crash) stops counting after
-- 15 seconds, and its rows go a minute later.
--
-- UNLOGGED: these are counts of open connections, not data anyone gave us;
-- after a crash of PostgreSQL the table starts empty and every replica's
-- next refresh fills it again.
CREATE UNLOGGED TABLE stream_census (
  replica      text NOT NULL CHECK (length(replica) BETWEEN 1 AND 128),
  caller_key   text NOT NULL CHECK (length(caller_key) BETWEEN 1 AND 128),
  open         integer NOT NULL CHECK (open > 0),
  refreshed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (replica, caller_key)
);
CREATE INDEX stream_census_by_caller ON stream_census (caller_key);
