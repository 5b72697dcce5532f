-- Dashboard: tables and rows per (schema, status), aggregated in the database; read-only.
-- rows_migrated counts at most the source row count of each table: duplicates on the target are not progress.
SELECT table_schema,
       export_status,
       COUNT(*)           AS tables,
       SUM(src_row_count) AS rows_expected,
       SUM(tgt_row_count) AS rows_on_target,
       SUM(CASE WHEN src_row_count IS NULL OR tgt_row_count IS NULL THEN 0
                WHEN tgt_row_count < src_row_count THEN tgt_row_count
                ELSE src_row_count END) AS rows_migrated,
       MAX(update_ts)     AS last_update
FROM {audit}
GROUP BY table_schema, export_status
ORDER BY table_schema, export_status
LIMIT :limit
