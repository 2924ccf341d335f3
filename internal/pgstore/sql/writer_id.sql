-- WriterID writes the order offset row's value into the events table's
-- transaction_id default and its check (see migration 0002), which hold it
-- as a constant because a check cannot read a table. It runs as the tables'
-- owner (ALTER TABLE), after raise_order_offset.sql in the same
-- transaction, and takes the events table's ACCESS EXCLUSIVE lock until
-- then: stop every writer first. NOT VALID, as in the migration: stored
-- rows keep the ids of the cluster that wrote them.
DO $chronicle$
DECLARE
    k bigint;
BEGIN
    SELECT order_offset INTO STRICT k FROM {{.Offset}};
    EXECUTE format('ALTER TABLE {{.Events}} ALTER COLUMN transaction_id SET DEFAULT (pg_catalog.pg_current_xact_id()::text::bigint + %s)', k);
    ALTER TABLE {{.Events}} DROP CONSTRAINT IF EXISTS {{.WriterCheck}};
    EXECUTE format('ALTER TABLE {{.Events}} ADD CONSTRAINT {{.WriterCheck}} CHECK (transaction_id = pg_catalog.pg_current_xact_id()::text::bigint + %s) NOT VALID', k);
END
$chronicle$
