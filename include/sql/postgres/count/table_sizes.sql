-- Bytes on disk of each table of a schema (the counting plan: small tables batched, big ones alone).
SELECT c.relname, pg_catalog.pg_total_relation_size(c.oid)
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
