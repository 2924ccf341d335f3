-- Reverts Chronicle migration 0001_init: drops the store's tables with all
-- their data, and the append-only trigger function. The schema and the
-- application's role stay: they may hold or serve other things.
DROP TABLE IF EXISTS {{.Versions}}, {{.Offset}}, {{.Checkpoints}}, {{.Heads}}, {{.Events}};
DROP FUNCTION IF EXISTS {{.Function}}();
