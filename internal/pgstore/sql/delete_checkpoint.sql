-- DeleteCheckpoint deletes a consumer's checkpoint; run it holding the
-- consumer's lease (wait_lease.sql, a statement of its own so that this
-- one's snapshot sees what the previous holder committed). Parameters:
-- $1 consumer_name text. Columns: one row per deleted checkpoint.
DELETE FROM {{.Checkpoints}} WHERE consumer_name = $1::text RETURNING 1
