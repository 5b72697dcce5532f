-- Where a content mismatch lies: the differing keys (when the table has a one-column key) and both
-- fingerprints. Not a status transition: the transition itself is recorded by record_transitions.
INSERT INTO {history} (
    event_ts, event_type, run_id, task_id, table_schema, table_name, detail
) VALUES (
    :now, 'mismatch', :run_id, :task_id, :table_schema, :table_name, :detail
)
