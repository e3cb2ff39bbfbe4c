-- Email tokens are minted by the dispatcher in the transaction that sends
-- the mail (SPEC §6: only a hash is ever stored, a queued mail holds no raw
-- token). A queued mail keeps what its text needs instead, in `content`
-- (title, sender, invitation, link base, slots: nothing secret); the link is
-- composed when the token exists, and only the token's hash is written.

ALTER TABLE outbox ADD COLUMN content jsonb;

-- The token mailed, set by the dispatcher when the mail is sent: NULL while
-- queued and for a mail given up. A purged token leaves the mail's record.
ALTER TABLE outbox ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_token_id_fkey;
ALTER TABLE outbox ADD CONSTRAINT outbox_token_id_fkey
  FOREIGN KEY (token_id) REFERENCES email_tokens (id) ON DELETE SET NULL;
CREATE INDEX outbox_token ON outbox (token_id);

-- Mails queued by the previous version hold `body` with a raw token in the
-- link and a token row: they are sent once as they are, and `body` is set
-- to NULL when they are sent or given up, as before (CHECK state = 'queued'
-- OR body IS NULL stays). No new row has a body: a queued mail is sendable
-- from exactly one of the two.
ALTER TABLE outbox ADD CONSTRAINT outbox_content_or_legacy_body
  CHECK (body IS NULL OR content IS NULL);
ALTER TABLE outbox ADD CONSTRAINT outbox_queued_is_sendable
  CHECK (state <> 'queued' OR content IS NOT NULL OR body IS NOT NULL);

-- A token belongs to its mail, not to the request: the idempotency record
-- may be purged before a token minted late expires.
ALTER TABLE email_tokens ALTER COLUMN request_id DROP NOT NULL;
ALTER TABLE email_tokens DROP CONSTRAINT email_tokens_request_id_fkey;
ALTER TABLE email_tokens ADD CONSTRAINT email_tokens_request_id_fkey
  FOREIGN KEY (request_id) REFERENCES requests (request_id) ON DELETE SET NULL;

-- The retention purge's lookups (see retention.h).
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);
CREATE INDEX outbox_finished ON outbox ((coalesce(sent_at, queued_at))) WHERE state <> 'queued';
CREATE INDEX requests_created ON requests (created_at);
