-- The answers of idempotent requests (SPEC §3 "Idempotency"): a POST with an
-- Idempotency-Key (gRPC: request_id) claims (caller, key) at the start of its
-- transaction and stores its answer before it commits, so a record exists if
-- and only if its action committed. A repeat within the window gets `response`
-- again; the purge job deletes records once the window is over.
-- `caller` names the authenticated caller ("user:<id>", or for an email token
-- "token:<event>:<fingerprint>"), never a credential.
CREATE TABLE idempotency_records (
  caller       text NOT NULL CHECK (length(caller) BETWEEN 1 AND 128),
  key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- SHA-256 (hex) of the RPC name and the request without its key.
  request_hash text NOT NULL,
  -- The serialized response message; NULL only while the claiming
  -- transaction runs (never seen committed).
  response     bytea,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
