-- One 'adopt' event per seed row of one schema, before adopt_rows.sql fills it in: the seed's own
-- status is kept as old_status. Only rows never written by this provider have created_ts NULL.
INSERT INTO {history} (
    event_ts, event_type, run_id, task_id, table_schema, table_name, old_status, new_status,
    src_row_count, tgt_row_count, detail
)
SELECT :now, 'adopt', :run_id, :task_id, table_schema, table_name, export_status,
       CASE WHEN export_status IN ('complete', 'partial', 'overload', 'reject') THEN export_status
            ELSE 'pending' END,
       src_row_count, tgt_row_count, :detail
FROM {audit}
WHERE table_schema = :schema AND created_ts IS NULL
