-- SchemaVersion selects the highest migration applied, 0 for none. Run
-- only once schema_tables.sql found the table. Columns: version integer.
SELECT COALESCE(max(version), 0)::integer FROM {{.Versions}}
