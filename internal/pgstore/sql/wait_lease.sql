-- WaitLease takes a consumer's lease (see claim_lease.sql), waiting for the
-- transaction that holds it to end. Parameters: $1 consumer_name text.
SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('chronicle consumer {{.Checkpoints}} ' || $1::text, 0))
