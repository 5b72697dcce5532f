-- Append one history row per audit row about to change (before the change, to keep the old status).
INSERT INTO {history} (
    event_ts, event_type, run_id, task_id, table_schema, table_name, old_status, new_status,
    src_row_count, tgt_row_count, src_present, tgt_present, detail
)
SELECT :now, :event_type, :run_id, :task_id, s.table_schema, s.table_name, a.export_status, s.export_status,
       s.src_row_count, s.tgt_row_count, s.src_present, s.tgt_present, s.schema_diff
FROM {stage} AS s
LEFT JOIN {audit} AS a ON a.table_schema = s.table_schema AND a.table_name = s.table_name
WHERE s.refresh_id = :refresh_id
