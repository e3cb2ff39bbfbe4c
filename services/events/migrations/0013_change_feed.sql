-- The change feed of SPEC §11: each new version of an event is announced on
-- the channel calndro_event_changes as "ID:VERSION" when its transaction
-- commits (NOTIFY is transactional: a rolled-back write announces nothing),
-- to every replica of the event service that listens (events/change_feed.h).
-- Only versions are announced; a listener reads the event itself, as its
-- caller may see it. Views, notifies and sealing change no version and
-- announce nothing.
CREATE FUNCTION announce_event_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.version IS DISTINCT FROM OLD.version THEN
    PERFORM pg_notify('calndro_event_changes', NEW.id::text || ':' || NEW.version::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER events_announce_version
  AFTER INSERT OR UPDATE OF version ON events
  FOR EACH ROW EXECUTE FUNCTION announce_event_version();
