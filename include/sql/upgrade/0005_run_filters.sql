-- Row filters in the run log: each step run records the filters it counted (and fingerprinted) under,
-- as a JSON object of table name to filter text as written in migration_audit.yaml; NULL when none.
-- A nullable column only: every row kept.
ALTER TABLE {runs} ADD COLUMN row_filters VARCHAR(4000)
