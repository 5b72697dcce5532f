-- Tables seen for the first time. As in apply_status, a marked count time means "this pass's time".
INSERT INTO {audit} (
    table_schema, table_name, src_present, src_row_count, tgt_present, tgt_row_count,
    src_counted_at, tgt_counted_at, count_method, export_status, export_success,
    update_ts, created_ts, last_run_id, src_fingerprint, tgt_fingerprint, fingerprinted_at, schema_drift,
    schema_diff
)
SELECT CAST(:schema AS VARCHAR(128)), s.table_name, s.src_present, s.src_row_count, s.tgt_present, s.tgt_row_count,
       CASE WHEN s.src_counted_at IS NULL THEN s.src_counted_at ELSE :src_counted_at END,
       CASE WHEN s.tgt_counted_at IS NULL THEN s.tgt_counted_at ELSE :tgt_counted_at END,
       s.count_method, {decide_status}, ({decide_status} = 'complete'),
       :now, :now, :run_id, s.src_fingerprint, s.tgt_fingerprint,
       CASE WHEN s.src_fingerprint IS NULL THEN NULL ELSE :now END, s.schema_drift, s.schema_diff
FROM {stage} AS s
WHERE s.old_status IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM {audit} AS a WHERE a.table_schema = :schema AND a.table_name = s.table_name
  )
