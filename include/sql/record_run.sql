INSERT INTO {runs} (
    run_id, task_id, step, table_schema, started_at, finished_at, count_method, tables_seen, rows_changed,
    row_filters
) VALUES (
    :run_id, :task_id, :step, :table_schema, :started_at, :finished_at, :count_method, :tables_seen,
    :rows_changed, :row_filters
)
