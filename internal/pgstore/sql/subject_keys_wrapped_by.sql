-- SubjectKeysWrappedBy selects a page of the data keys one wrapping key
-- wraps, ordered by subject (the column's "C" collation: bytewise), on the
-- (wrapping_key_id, subject) index. Parameters: $1 wrapping_key_id text,
-- $2 the last subject of the previous page ('' for the first) text, $3 the
-- page size bigint. Columns: as subject_key_read.sql. It neither locks nor
-- waits.
SELECT subject, key_id::text, wrapped_key, wrapping_key_id, created_at
FROM {{.SubjectKeys}}
WHERE wrapping_key_id = $1::text AND subject > $2::text
ORDER BY subject
LIMIT $3::bigint
