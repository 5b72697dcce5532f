INSERT INTO {audit} (
    table_schema, table_name, src_present, src_row_count, tgt_present, tgt_row_count,
    src_counted_at, tgt_counted_at, count_method, export_status, export_success,
    update_ts, created_ts, last_run_id
)
SELECT s.table_schema, s.table_name, s.src_present, s.src_row_count, s.tgt_present, s.tgt_row_count,
       s.src_counted_at, s.tgt_counted_at, s.count_method, s.export_status, (s.export_status = 'complete'),
       :now, :now, :run_id
FROM {stage} AS s
WHERE s.refresh_id = :refresh_id
  AND NOT EXISTS (
    SELECT 1 FROM {audit} AS a WHERE a.table_schema = s.table_schema AND a.table_name = s.table_name
  )
