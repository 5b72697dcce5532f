SELECT export_status, COUNT(*) AS tables, SUM(src_row_count) AS src_rows, SUM(tgt_row_count) AS tgt_rows
FROM {audit}
WHERE table_schema = :schema
GROUP BY export_status
