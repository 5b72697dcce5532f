-- The history is read per table (dashboard drill-down, the demo): index it by table and time.
CREATE INDEX IF NOT EXISTS audit_history_by_table ON {history} (table_schema, table_name, event_id)
