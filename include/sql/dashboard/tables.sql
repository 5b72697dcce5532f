-- Dashboard: one page of the tables of one schema (of one status only, or all when the status
-- is empty), with the last status change and the last copy of each, and its column differences; read-only.
-- The history is searched only for the tables of the page.
WITH page AS (
    SELECT table_name, export_status, src_row_count, tgt_row_count, src_present, tgt_present,
           update_ts, last_run_id, schema_diff
    FROM {audit}
    WHERE table_schema = :schema
      AND (:status = '' OR export_status = :status)
    ORDER BY table_name
    LIMIT :limit OFFSET :offset
),
last_change AS (
    SELECT h.table_name, MAX(h.event_id) AS event_id
    FROM {history} AS h
    JOIN page AS p ON p.table_name = h.table_name
    WHERE h.table_schema = :schema
      AND h.event_type IN ('init', 'refresh')
      AND h.new_status IS NOT NULL
      AND (h.old_status IS NULL OR h.old_status <> h.new_status)
    GROUP BY h.table_name
),
last_copy AS (
    SELECT h.table_name, MAX(h.event_id) AS event_id
    FROM {history} AS h
    JOIN page AS p ON p.table_name = h.table_name
    WHERE h.table_schema = :schema
      AND h.event_type = 'copy'
    GROUP BY h.table_name
)
SELECT p.table_name, p.export_status, p.src_row_count, p.tgt_row_count, p.src_present, p.tgt_present,
       p.update_ts, p.last_run_id, p.schema_diff,
       s.event_ts AS changed_at, s.old_status, s.new_status, s.run_id AS changed_run_id,
       c.event_ts AS copied_at, c.copy_method, c.rows_read, c.rows_written, c.seconds, c.error,
       c.run_id AS copied_run_id
FROM page AS p
LEFT JOIN last_change AS lch ON lch.table_name = p.table_name
LEFT JOIN {history} AS s ON s.event_id = lch.event_id
LEFT JOIN last_copy AS lcp ON lcp.table_name = p.table_name
LEFT JOIN {history} AS c ON c.event_id = lcp.event_id
ORDER BY p.table_name
