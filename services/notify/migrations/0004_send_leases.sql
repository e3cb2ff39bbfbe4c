-- A mail's claim outlives the connection that made it. The dispatcher
-- claims a mail in a transaction of its own (committed before the SMTP
-- transaction) and marks it in another after the SMTP server answered; in
-- between the row is leased: no dispatcher claims it until `lease_until`
-- has passed. So when the database goes away after the SMTP server accepted
-- a mail, the dispatcher keeps the "sent" mark and writes it once the
-- database is back, and nobody sends that mail again meanwhile (see
-- dispatcher.h). `lease_owner` names the replica (CALNDRO_REPLICA_ID), which
-- ends its own leases when it starts again; `lease_claim` tells this claim
-- from a later one of the same row. The marks end the lease (`lease_until`
-- NULL) and keep owner and claim: who sent the mail.
ALTER TABLE outbox ADD COLUMN lease_owner text;
ALTER TABLE outbox ADD COLUMN lease_claim bigint;
ALTER TABLE outbox ADD COLUMN lease_until timestamptz;
