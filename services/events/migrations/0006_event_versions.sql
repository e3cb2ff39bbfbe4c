-- Every event carries a version that grows with each change of what the API
-- shows of it (title, parties, slots) and with its deletion (SPEC §3
-- "Versions and preconditions"): ETag and If-Match compare it. Existing
-- events start at 1, as a new one does.
ALTER TABLE events ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE events ADD CONSTRAINT events_version_positive CHECK (version > 0);
