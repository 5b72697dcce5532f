-- Append one history row per audit row about to change, with the status it had (old_status: staged
-- from the row read under the lock, so no join with the audit table) and the one it gets.
INSERT INTO {history} (
    event_ts, event_type, run_id, task_id, table_schema, table_name, old_status, new_status,
    src_row_count, tgt_row_count, src_present, tgt_present, detail
)
SELECT :now, :event_type, :run_id, :task_id, :schema, s.table_name, s.old_status, {decide_status},
       s.src_row_count, s.tgt_row_count, s.src_present, s.tgt_present, s.schema_diff
FROM {stage} AS s
