-- SchemaTables tells which of the store's tables exist, without failing
-- when they do not: $1 the events table and $2 the schema version table,
-- each as its quoted, qualified name (text), resolved like the statements'
-- names (through the search_path when unqualified). Columns: events
-- boolean, versions boolean.
SELECT pg_catalog.to_regclass($1::text) IS NOT NULL, pg_catalog.to_regclass($2::text) IS NOT NULL
