-- DeleteStreamEnd clears the settings DeleteStreamLock set, so that the
-- rest of the transaction has the append-only trigger's full protection.
SELECT pg_catalog.set_config('chronicle.delete_aggregate_type', '', true),
    pg_catalog.set_config('chronicle.delete_aggregate_id', '', true)
