SELECT table_name, export_status
FROM {audit}
WHERE table_schema = :schema
ORDER BY table_name
