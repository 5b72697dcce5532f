SELECT table_name
FROM v_catalog.tables
WHERE table_schema = :schema AND NOT is_temp_table
ORDER BY table_name
