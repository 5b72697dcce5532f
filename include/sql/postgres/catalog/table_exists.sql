-- Whether one table exists, found by name through pg_class's (relname, relnamespace) index: the store's
-- checks before every write, without listing the schema's tables (list_tables.sql).
SELECT c.relname
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relname = :table
  AND n.nspname = :schema
  AND c.relkind IN ('r', 'p')
