-- Chronicle migration 0002_snapshot_cursor: consumers' cursors become
-- snapshots (see the consumer package). Every event carries its writer's
-- transaction id plus the order offset, enforced by the schema; a
-- checkpoint holds a snapshot instead of a (transaction order, position)
-- pair; the aggregate heads drop their transaction order. Existing
-- checkpoints move over so that each consumer delivers exactly the events
-- it had not delivered. Idempotent: it changes nothing once version 2 is
-- recorded.

DO $chronicle$ BEGIN PERFORM pg_advisory_xact_lock({{.LockKey}}); END $chronicle$;

DO $chronicle$
DECLARE
    k bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM {{.Versions}} WHERE version = 2) THEN
        RETURN;
    END IF;

    -- Events keep the order revision 1 gave them as their writer id: at
    -- least the writer's id, and a committed writer's, so every snapshot
    -- taken from now on sees them. The (transaction_order, global_position)
    -- index keeps its name and serves the writer-id range scans and probes.
    ALTER TABLE {{.Events}} RENAME COLUMN transaction_order TO transaction_id;
    ALTER TABLE {{.Heads}} DROP COLUMN transaction_order;

    -- A revision-1 cursor (o, p) delivered the events with transaction order
    -- below o, and those at o up to position p: the snapshot seeing every id
    -- below o, and, when p > 0, the page of the step to the snapshot seeing
    -- o too, read up to p. Every writer still running had an id at or above
    -- the frontier, so at or above o: none is visible in these snapshots.
    ALTER TABLE {{.Checkpoints}}
        ADD COLUMN snapshot_xmin bigint NOT NULL DEFAULT 0,
        ADD COLUMN snapshot_xmax bigint NOT NULL DEFAULT 0,
        ADD COLUMN snapshot_xip bigint[] NOT NULL DEFAULT '{}',
        ADD COLUMN upper_xmin bigint NOT NULL DEFAULT 0,
        ADD COLUMN upper_xmax bigint NOT NULL DEFAULT 0,
        ADD COLUMN upper_xip bigint[] NOT NULL DEFAULT '{}',
        ADD COLUMN page_position bigint NOT NULL DEFAULT 0;
    UPDATE {{.Checkpoints}}
    SET snapshot_xmin = transaction_order, snapshot_xmax = transaction_order,
        upper_xmin = CASE WHEN global_position > 0 THEN transaction_order + 1 ELSE 0 END,
        upper_xmax = CASE WHEN global_position > 0 THEN transaction_order + 1 ELSE 0 END,
        page_position = global_position;
    ALTER TABLE {{.Checkpoints}} DROP COLUMN transaction_order, DROP COLUMN global_position;

    -- New events get their writer's id from the column default, and the
    -- check rejects any other value, so no client can place an event
    -- behind a cursor. The offset is written into both as a constant (a
    -- check cannot read a table); the order-offset recovery rewrites them
    -- with the offset row. NOT VALID: the rows above keep their revision-1
    -- values, and pg_dump restores the check after the data.
    SELECT order_offset INTO STRICT k FROM {{.Offset}};
    EXECUTE format('ALTER TABLE {{.Events}} ALTER COLUMN transaction_id SET DEFAULT (pg_catalog.pg_current_xact_id()::text::bigint + %s)', k);
    EXECUTE format('ALTER TABLE {{.Events}} ADD CONSTRAINT {{.WriterCheck}} CHECK (transaction_id = pg_catalog.pg_current_xact_id()::text::bigint + %s) NOT VALID', k);

    INSERT INTO {{.Versions}} (version, name) VALUES (2, 'snapshot_cursor');
END
$chronicle$;
{{- if .HasAppRole}}

-- Operations delete the checkpoint of a consumer that is gone.
GRANT DELETE ON {{.Checkpoints}} TO {{.AppRole}};
{{- end}}
