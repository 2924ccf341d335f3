-- TransactionOrder selects stored_max bigint (the lowest id a new writer
-- must get for no stored snapshot to count it as visible: one past the
-- highest events.transaction_id, read backwards from its index, or the
-- highest xmax of a checkpoint's snapshots; 0 when both are empty),
-- current bigint (pg_snapshot_xmax(pg_current_snapshot()), one past the
-- latest completed transaction id, or one past the caller's own id when
-- that is higher — its own rows count as stored — plus the offset), offset bigint and the database's now().
-- It always returns one row, with NULL current and offset without an
-- offset row, and assigns no transaction id.
SELECT COALESCE(GREATEST((SELECT max(transaction_id) + 1 FROM {{.Events}}),
                         (SELECT max(GREATEST(snapshot_xmax, upper_xmax)) FROM {{.Checkpoints}})), 0),
    GREATEST(pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint,
             pg_catalog.pg_current_xact_id_if_assigned()::text::bigint + 1) + o.order_offset,
    o.order_offset, now()
FROM (SELECT 1) one LEFT JOIN {{.Offset}} o ON true
