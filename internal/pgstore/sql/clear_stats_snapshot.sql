-- ClearStatsSnapshot discards the session's cached copy of the activity
-- statistics: PostgreSQL reads pg_stat_activity once per transaction and
-- keeps that copy until the transaction ends, so a second Writers call in
-- one transaction would see writers that have ended since. Run before
-- writers.sql, as a statement of its own (the order of evaluation within
-- one statement is not defined).
SELECT pg_catalog.pg_stat_clear_snapshot()
