-- Chronicle migration 0004_subject_keys: the subjects' data keys of
-- crypto-shredding (package core/shred). One row per subject: its data key,
-- wrapped by a key the application holds. Deleting a row makes every field
-- sealed with that key unreadable, while the events stay as they are.
-- Idempotent: every object is created only if it is missing.
--
-- It has no down migration: dropping the table would erase the personal
-- data of every subject at once.

DO $chronicle$ BEGIN PERFORM pg_advisory_xact_lock({{.LockKey}}); END $chronicle$;

-- subject is compared bytewise (COLLATE "C"), so that listing the keys of
-- one wrapping key in pages means the same on every database.
CREATE TABLE IF NOT EXISTS {{.SubjectKeys}} (
    subject         text COLLATE "C" NOT NULL,
    key_id          uuid        NOT NULL,
    wrapped_key     bytea       NOT NULL,
    wrapping_key_id text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT {{.SubjectKeysPkey}} PRIMARY KEY (subject)
);

-- Rotating the wrapping key walks the keys it wraps, in pages.
CREATE INDEX IF NOT EXISTS {{.SubjectKeysWrappingIndex}} ON {{.SubjectKeys}} (wrapping_key_id, subject);

INSERT INTO {{.Versions}} (version, name) VALUES (4, 'subject_keys') ON CONFLICT DO NOTHING;
{{- if .HasAppRole}}

-- The application creates, reads and deletes (forgets) keys, and rewraps
-- them when the wrapping key rotates: UPDATE of the wrapped key only, never
-- of the subject or the key id.
GRANT SELECT, INSERT, DELETE ON {{.SubjectKeys}} TO {{.AppRole}};
GRANT UPDATE (wrapped_key, wrapping_key_id) ON {{.SubjectKeys}} TO {{.AppRole}};
{{- end}}
