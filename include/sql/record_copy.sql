INSERT INTO {history} (
    event_ts, event_type, run_id, task_id, table_schema, table_name,
    copy_method, rows_read, rows_written, seconds, error
) VALUES (
    :now, 'copy', :run_id, :task_id, :table_schema, :table_name,
    :copy_method, :rows_read, :rows_written, :seconds, :error
)
