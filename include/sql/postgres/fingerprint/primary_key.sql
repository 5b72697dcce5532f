-- One table's primary key columns in key order (information_schema's rows: tested), from pg_index by
-- the table's oid instead of the information_schema constraint views, which scan the whole catalog.
SELECT a.attname AS column_name
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = (
        SELECT c.oid
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.relname = :table AND n.nspname = :schema AND c.relkind IN ('r', 'p')
      )
  AND i.indisprimary
ORDER BY array_position(CAST(i.indkey AS SMALLINT[]), a.attnum)
