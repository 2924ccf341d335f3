-- RaiseOrderOffset updates the offset row so that current becomes
-- stored_max + 1 when stored_max >= current (the log was moved into another
-- cluster), and keeps it otherwise (see transaction_order.sql for the
-- terms). It returns the new stored_max, current and offset, or no row when
-- the offset row is missing. It locks the offset row (waiting for another
-- transaction changing it, then re-checking against its value) and gives
-- the caller a transaction id.
WITH st AS (
    SELECT GREATEST((SELECT max(transaction_order) FROM {{.Events}}), (SELECT max(transaction_order) FROM {{.Checkpoints}}), 0) AS stored_max,
        pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint AS next_xid
)
UPDATE {{.Offset}} AS o
SET order_offset = CASE WHEN st.stored_max >= st.next_xid + o.order_offset THEN st.stored_max + 1 - st.next_xid
                        ELSE o.order_offset END
FROM st
RETURNING st.stored_max, st.next_xid + o.order_offset, o.order_offset
