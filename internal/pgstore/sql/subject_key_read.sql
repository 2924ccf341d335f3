-- ReadSubjectKey selects a subject's data key. Parameters: $1 subject text.
-- Columns: subject text, key_id text (the uuid), wrapped_key bytea,
-- wrapping_key_id text, created_at timestamptz; no row when the subject has
-- no key. It neither locks nor waits.
SELECT subject, key_id::text, wrapped_key, wrapping_key_id, created_at
FROM {{.SubjectKeys}}
WHERE subject = $1::text
