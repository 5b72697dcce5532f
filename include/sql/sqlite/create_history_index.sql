-- SQLite names an index in its schema (the attached file) and the table without one.
CREATE INDEX IF NOT EXISTS {schema}.audit_history_by_table ON {history_name} (table_schema, table_name, event_id)
