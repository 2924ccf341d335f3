-- DeleteSubjectKey deletes a subject's data key: every field sealed with it
-- becomes unreadable. Parameters: $1 subject text. Columns: key_id text
-- (the uuid), one row per deleted key. It waits while another transaction
-- deletes or rewraps the key.
DELETE FROM {{.SubjectKeys}} WHERE subject = $1::text RETURNING key_id::text
