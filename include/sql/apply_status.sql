-- The one pass over the audit table: only rows left in the stage (rows that change) are written.
UPDATE {audit} AS a
SET src_present = s.src_present,
    src_row_count = s.src_row_count,
    tgt_present = s.tgt_present,
    tgt_row_count = s.tgt_row_count,
    src_counted_at = s.src_counted_at,
    tgt_counted_at = s.tgt_counted_at,
    count_method = s.count_method,
    export_status = s.export_status,
    export_success = (s.export_status = 'complete'),
    update_ts = :now,
    last_run_id = :run_id
FROM {stage} AS s
WHERE s.refresh_id = :refresh_id
  AND a.table_schema = s.table_schema
  AND a.table_name = s.table_name
