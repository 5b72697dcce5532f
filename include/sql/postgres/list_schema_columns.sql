-- Every column of every table of one schema, in one read of PostgreSQL's own catalog: the same rows
-- as the portable information_schema query (tested) for tables the session may read, and the columns
-- of the others too (see list_tables.sql), at a fraction of its cost in a large catalog.
-- Columns: table_name, column_name, data_type, char_length, num_precision, num_scale, nullable.
SELECT c.relname AS table_name,
       a.attname AS column_name,
       CASE WHEN t.typtype = 'd' THEN
                CASE WHEN bt.typelem <> 0 AND bt.typlen = -1 THEN 'ARRAY'
                     WHEN nbt.nspname = 'pg_catalog' THEN format_type(t.typbasetype, NULL)
                     ELSE 'USER-DEFINED' END
            WHEN t.typelem <> 0 AND t.typlen = -1 THEN 'ARRAY'
            WHEN nt.nspname = 'pg_catalog' THEN format_type(a.atttypid, NULL)
            ELSE 'USER-DEFINED' END AS data_type,
       information_schema._pg_char_max_length(information_schema._pg_truetypid(a.*, t.*),
                                              information_schema._pg_truetypmod(a.*, t.*)) AS char_length,
       information_schema._pg_numeric_precision(information_schema._pg_truetypid(a.*, t.*),
                                                information_schema._pg_truetypmod(a.*, t.*)) AS num_precision,
       information_schema._pg_numeric_scale(information_schema._pg_truetypid(a.*, t.*),
                                            information_schema._pg_truetypmod(a.*, t.*)) AS num_scale,
       CASE WHEN a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) THEN 'NO' ELSE 'YES' END AS nullable
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace AS nt ON nt.oid = t.typnamespace
LEFT JOIN (pg_catalog.pg_type AS bt JOIN pg_catalog.pg_namespace AS nbt ON nbt.oid = bt.typnamespace)
  ON t.typtype = 'd' AND t.typbasetype = bt.oid
WHERE n.nspname = :schema
  AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
