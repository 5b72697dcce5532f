SELECT column_name
FROM v_catalog.primary_keys
WHERE table_schema = :schema AND table_name = :table
ORDER BY ordinal_position
