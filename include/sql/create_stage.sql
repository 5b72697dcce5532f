-- The status pass's working set: the changed rows of one pass (one schema), in a table private to the
-- session (PostgreSQL and SQLite: TEMPORARY; Vertica: LOCAL TEMPORARY). Nothing in it is logged or
-- left behind in the store: its rows go at the end of the pass (clear_stage.sql) and at commit where
-- the database has ON COMMIT DELETE ROWS, the table itself when the session ends. No key and no index:
-- it is only ever read whole, and the audit table's key finds each row's audit row.
-- old_status is the audit row's status as read under the lock (NULL: a table new to the audit).
-- The slots are the database object's (``temporary_table``, ``on_commit_delete``).
{create_temporary} {stage_name} (
    table_name      VARCHAR(128) NOT NULL,
    old_status      VARCHAR(16),
    src_row_count   BIGINT,
    tgt_row_count   BIGINT,
    src_present     BOOLEAN,
    tgt_present     BOOLEAN,
    src_counted_at  TIMESTAMP,
    tgt_counted_at  TIMESTAMP,
    count_method    VARCHAR(32),
    src_fingerprint VARCHAR(128),
    tgt_fingerprint VARCHAR(128),
    schema_drift    BOOLEAN,
    schema_diff     VARCHAR(4000)
)
{on_commit_delete}
