-- Dashboard: the newest events of the history of one table (status changes and copies), with
-- each event's detail (a refresh's column differences, a mismatch's keys); read-only.
SELECT event_id, event_ts, event_type, run_id, task_id, old_status, new_status,
       src_row_count, tgt_row_count, copy_method, rows_read, rows_written, seconds, error, detail
FROM {history}
WHERE table_schema = :schema
  AND table_name = :table
ORDER BY event_id DESC
LIMIT :limit
