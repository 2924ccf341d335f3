-- RewrapSubjectKey replaces a data key's wrapped form, if the subject's key
-- is still the one read, wrapped by the previous wrapping key. Parameters:
-- $1 subject text, $2 key_id uuid (as text), $3 the previous
-- wrapping_key_id text, $4 the new wrapped_key bytea, $5 the new
-- wrapping_key_id text. Columns: one row per rewrapped key. A key another
-- transaction deletes or rewraps is waited for and checked again.
UPDATE {{.SubjectKeys}}
SET wrapped_key = $4::bytea, wrapping_key_id = $5::text
WHERE subject = $1::text AND key_id = $2::text::uuid AND wrapping_key_id = $3::text
RETURNING 1
