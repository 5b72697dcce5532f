-- One table's columns and their types as information_schema.columns spells them (the same rows:
-- tested), read by pg_class's name index and pg_attribute's: information_schema.columns costs a scan of
-- the whole catalog per table, which adds up when every small table is fingerprinted on each refresh.
SELECT a.attname AS column_name,
       CASE WHEN t.typtype = 'd' THEN
                (SELECT CASE WHEN bt.typelem <> 0 AND bt.typlen = -1 THEN 'ARRAY'
                             WHEN bt.typnamespace = 'pg_catalog'::regnamespace THEN format_type(t.typbasetype, NULL)
                             ELSE 'USER-DEFINED' END
                 FROM pg_catalog.pg_type AS bt WHERE bt.oid = t.typbasetype)
            WHEN t.typelem <> 0 AND t.typlen = -1 THEN 'ARRAY'
            WHEN t.typnamespace = 'pg_catalog'::regnamespace THEN format_type(a.atttypid, NULL)
            ELSE 'USER-DEFINED' END AS data_type
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
WHERE a.attrelid = (
        SELECT c.oid
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.relname = :table AND n.nspname = :schema AND c.relkind IN ('r', 'p')
      )
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
