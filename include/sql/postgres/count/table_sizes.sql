-- Size of each table of a schema from the catalog (pages at the last VACUUM/ANALYZE, 8 kB each; 0 for a
-- table never analysed, which is then counted with the small ones): the counting plan, no file access.
SELECT c.relname, c.relpages::bigint * current_setting('block_size')::bigint
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
