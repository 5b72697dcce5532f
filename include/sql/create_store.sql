-- The audit store, created idempotently on the target connection, in the store's schema.
-- (The status pass stages its rows in a session-private table: create_stage.sql.)
-- The event_id and float slots hold the column types that differ per database (the database object's
-- store_types); everything else is the same everywhere. Keys are declared; Vertica does not enforce them.

-- One row per (schema, table): the current state. Written only by the status pass.
CREATE TABLE IF NOT EXISTS {audit} (
    table_schema    VARCHAR(128) NOT NULL,
    table_name      VARCHAR(128) NOT NULL,
    src_row_count   BIGINT,
    tgt_row_count   BIGINT,
    export_success  BOOLEAN      NOT NULL DEFAULT FALSE,
    export_status   VARCHAR(16)  NOT NULL,
    update_ts       TIMESTAMP    NOT NULL,
    src_present     BOOLEAN,
    tgt_present     BOOLEAN,
    src_counted_at  TIMESTAMP,
    tgt_counted_at  TIMESTAMP,
    count_method    VARCHAR(32),
    created_ts      TIMESTAMP    NOT NULL,
    last_run_id     VARCHAR(250),
    src_fingerprint VARCHAR(128),
    tgt_fingerprint VARCHAR(128),
    fingerprinted_at TIMESTAMP,
    schema_drift    BOOLEAN,
    schema_diff     VARCHAR(4000),
    PRIMARY KEY (table_schema, table_name)
);

-- Append-only: every change of an audit row and every copy, with the run that made it.
CREATE TABLE IF NOT EXISTS {history} (
    event_id        {event_id},
    event_ts        TIMESTAMP    NOT NULL,
    event_type      VARCHAR(16)  NOT NULL,
    run_id          VARCHAR(250),
    task_id         VARCHAR(250),
    table_schema    VARCHAR(128) NOT NULL,
    table_name      VARCHAR(128) NOT NULL,
    old_status      VARCHAR(16),
    new_status      VARCHAR(16),
    src_row_count   BIGINT,
    tgt_row_count   BIGINT,
    src_present     BOOLEAN,
    tgt_present     BOOLEAN,
    copy_method     VARCHAR(32),
    rows_read       BIGINT,
    rows_written    BIGINT,
    seconds         {float},
    error           VARCHAR(4000),
    detail          VARCHAR(4000)
);

-- One row per audit step run: when and how counts were taken, what changed.
CREATE TABLE IF NOT EXISTS {runs} (
    run_id          VARCHAR(250),
    task_id         VARCHAR(250),
    step            VARCHAR(16)  NOT NULL,
    table_schema    VARCHAR(128) NOT NULL,
    started_at      TIMESTAMP    NOT NULL,
    finished_at     TIMESTAMP    NOT NULL,
    count_method    VARCHAR(32),
    tables_seen     BIGINT,
    rows_changed    BIGINT,
    row_filters     VARCHAR(4000)
)
