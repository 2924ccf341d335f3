-- Reverts Chronicle migration 0001_init: drops the store's tables with all
-- their data, and the append-only trigger function. The schema and the
-- application's role stay: they may hold or serve other things. The
-- subject keys of migration 0004, which cannot be reverted on its own, go
-- with the rest when a schema is dropped whole this way.
DROP TABLE IF EXISTS {{.SubjectKeys}}, {{.Versions}}, {{.Offset}}, {{.Checkpoints}}, {{.Heads}}, {{.Events}};
DROP FUNCTION IF EXISTS {{.Function}}();
