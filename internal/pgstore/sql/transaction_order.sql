-- TransactionOrder selects stored_max bigint (the greater of the highest
-- events.transaction_order, read backwards from the cursor index, and the
-- highest checkpoint cursor; 0 when both are empty), current bigint
-- (pg_snapshot_xmax(pg_current_snapshot()), the next transaction id, plus
-- the offset) and offset bigint. It always returns one row, with NULL
-- current and offset without an offset row, and assigns no transaction id.
SELECT GREATEST((SELECT max(transaction_order) FROM {{.Events}}), (SELECT max(transaction_order) FROM {{.Checkpoints}}), 0),
    pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint + o.order_offset,
    o.order_offset
FROM (SELECT 1) one LEFT JOIN {{.Offset}} o ON true
