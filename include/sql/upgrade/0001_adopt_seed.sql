-- Seed layout (the seed's migration.audit: table_schema, table_name, src_row_count, tgt_row_count,
-- export_success, export_status, update_ts; its migration.current_row_counts: table_schema,
-- table_name, row_count) -> this provider's first layout. Only columns are added, all nullable:
-- no row is changed here. Each row is adopted when its schema's DAG first writes (adopt_rows.sql).
-- The seed's current_row_counts is left as it is, rows and columns: the status pass stages its rows
-- in a session-private table (create_stage.sql).
-- An ADD COLUMN runs only when the catalog lacks the column (store_versions), so a step re-runs safely.
ALTER TABLE {audit} ADD COLUMN src_present BOOLEAN;
ALTER TABLE {audit} ADD COLUMN tgt_present BOOLEAN;
ALTER TABLE {audit} ADD COLUMN src_counted_at TIMESTAMP;
ALTER TABLE {audit} ADD COLUMN tgt_counted_at TIMESTAMP;
ALTER TABLE {audit} ADD COLUMN count_method VARCHAR(32);
ALTER TABLE {audit} ADD COLUMN created_ts TIMESTAMP;
ALTER TABLE {audit} ADD COLUMN last_run_id VARCHAR(250)
