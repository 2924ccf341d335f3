-- CreateSubjectKey stores a subject's data key unless the subject has one.
-- Parameters: $1 subject text, $2 key_id uuid (as text), $3 wrapped_key
-- bytea, $4 wrapping_key_id text. Columns (see subject_key_read.sql): the
-- stored key, no row when the subject had a key. ON CONFLICT waits while
-- another transaction is creating, deleting or rewrapping the subject's
-- key; the caller then reads the key in a statement of its own, whose
-- snapshot sees what that transaction committed.
INSERT INTO {{.SubjectKeys}} (subject, key_id, wrapped_key, wrapping_key_id)
VALUES ($1::text, $2::text::uuid, $3::bytea, $4::text)
ON CONFLICT (subject) DO NOTHING
RETURNING subject, key_id::text, wrapped_key, wrapping_key_id, created_at
