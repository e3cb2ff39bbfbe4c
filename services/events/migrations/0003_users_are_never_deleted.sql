-- Users are never deleted: a user row is the record of who was invited to or
-- created an event (the audit log names them), and no code path deletes one.
-- Made a rule here, it keeps every reference to a user valid, so the foreign
-- keys from event_parties and events to users can go: every event creation
-- checked them by locking the same few user rows FOR KEY SHARE from every
-- concurrent transaction (the same parties appear on many events), and those
-- shared locks (multixacts) cost a quarter of the create throughput at 16
-- concurrent creates (docs/PERFORMANCE.md). The ids written there come from
-- the users table itself (the caller's row, or a join on the parties'
-- emails). The keys to events stay: event rows are written in the same
-- statement as their parties, and each has its own row to lock.
CREATE FUNCTION users_are_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'users are never deleted (deactivate the account instead)';
END;
$$;
CREATE TRIGGER users_no_delete
  BEFORE DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION users_are_never_deleted();
CREATE TRIGGER users_no_truncate
  BEFORE TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION users_are_never_deleted();

ALTER TABLE event_parties DROP CONSTRAINT event_parties_user_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_created_by_fkey;
