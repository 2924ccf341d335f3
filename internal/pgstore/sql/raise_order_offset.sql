-- RaiseOrderOffset updates the offset row so that the oldest running
-- transaction id, and so every later one, lands at or above stored_max
-- when stored_max > current (the log was moved into another cluster), and
-- keeps it otherwise (see transaction_order.sql for the
-- terms). It returns the new stored_max, current, offset and now(), or no
-- row when the offset row is missing. It locks the offset row (waiting for
-- another transaction changing it, then re-checking against its value) and
-- gives the caller a transaction id. writer_id.sql then writes the new
-- offset into the events table's writer-id default and check.
WITH st AS (
    SELECT COALESCE(GREATEST((SELECT max(transaction_id) + 1 FROM {{.Events}}),
                             (SELECT max(GREATEST(snapshot_xmax, upper_xmax)) FROM {{.Checkpoints}})), 0) AS stored_max,
        pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint AS oldest_xid,
        pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint AS next_xid
)
UPDATE {{.Offset}} AS o
SET order_offset = CASE WHEN st.stored_max > st.next_xid + o.order_offset THEN st.stored_max - st.oldest_xid
                        ELSE o.order_offset END
FROM st
RETURNING st.stored_max, st.next_xid + o.order_offset, o.order_offset, now()
