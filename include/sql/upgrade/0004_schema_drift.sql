-- Schema drift (drift.py): whether a table's columns differ between the clusters, and how.
-- Nullable columns only: every row kept; NULL means "not compared yet".
ALTER TABLE {audit} ADD COLUMN schema_drift BOOLEAN;
ALTER TABLE {audit} ADD COLUMN schema_diff VARCHAR(4000)
