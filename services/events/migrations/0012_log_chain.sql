-- A log nobody can rewrite (SPEC §10): each event's entries form a hash
-- chain, and the event's head (its last sealed entry) is signed.
--
-- Entries are written as before, with seq/prev/hash NULL, by the statement
-- of their action: the write paths do not wait for the chain. The sealer
-- (services/events/log_sealer.h) then sets the three columns, once, under
-- the lock of the event's log_heads row, in the transaction that moves the
-- head: one chain per event whichever replicas seal, and a crash in between
-- leaves both as they were.
ALTER TABLE log_entries
  ADD COLUMN seq bigint,
  ADD COLUMN prev text,
  ADD COLUMN hash text,
  ADD CONSTRAINT log_entries_sealed_whole CHECK ((seq IS NULL) = (prev IS NULL) AND (seq IS NULL) = (hash IS NULL));
-- Two entries of one event never share a seq. Partial, so that writing an
-- entry (unsealed) adds nothing to it.
CREATE UNIQUE INDEX log_entries_by_seq ON log_entries (event_id, seq) WHERE seq IS NOT NULL;
-- What the sealer reads each round: only the entries still to seal.
CREATE INDEX log_entries_unsealed ON log_entries (event_id, id) WHERE seq IS NULL;

-- Sealing sets seq, prev and hash of an unsealed entry; nothing else of an
-- entry ever changes, and entries are never deleted.
CREATE FUNCTION log_entries_only_sealed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND NEW.id = OLD.id AND NEW.event_id = OLD.event_id AND NEW.at = OLD.at
     AND NEW.occurrence = OLD.occurrence AND NEW.effector = OLD.effector
     AND NEW.slots = OLD.slots AND NEW.data = OLD.data THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit log entries are never updated or deleted (only sealed, once)';
END;
$$;
DROP TRIGGER log_entries_append_only ON log_entries;
CREATE TRIGGER log_entries_append_only
  BEFORE UPDATE OR DELETE ON log_entries
  FOR EACH ROW EXECUTE FUNCTION log_entries_only_sealed();

-- Each event's head: its last sealed entry and the signature over it
-- (common/audit/log_chain.h's head_text()). A row with seq NULL is the lock
-- the sealer takes before the first entry is sealed: no head yet. No
-- foreign key to events: its check would lock the event's row (FOR KEY
-- SHARE), and the sealer would wait behind every write holding that row;
-- a head exists only for an event with entries, which have the key.
CREATE TABLE log_heads (
  event_id  bigint PRIMARY KEY,
  seq       bigint,
  hash      text,
  signed_at timestamptz,
  key_id    text,
  signature text,
  CONSTRAINT log_heads_whole CHECK ((seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (signed_at IS NULL)
                                    AND (seq IS NULL) = (signature IS NULL) AND (seq IS NULL) = (key_id IS NULL))
);
