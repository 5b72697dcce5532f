-- Dashboard: the audit row of one table (with its column differences, schema_diff); read-only.
SELECT table_name, export_status, src_row_count, tgt_row_count, src_present, tgt_present,
       src_counted_at, tgt_counted_at, count_method, update_ts, created_ts, last_run_id, schema_diff
FROM {audit}
WHERE table_schema = :schema
  AND table_name = :table
