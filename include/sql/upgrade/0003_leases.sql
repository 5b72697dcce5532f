-- The per-schema lease (lease.py): one run of a schema's chain at a time, backfills included.
-- The key is enforced on PostgreSQL and SQLite (take.sql's ON CONFLICT needs it); on Vertica it is
-- declared only, and take.sql holds the table's lock instead.
CREATE TABLE IF NOT EXISTS {leases} (
    table_schema VARCHAR(128) NOT NULL,
    holder       VARCHAR(512) NOT NULL,
    acquired_at  TIMESTAMP    NOT NULL,
    expires_at   TIMESTAMP    NOT NULL,
    PRIMARY KEY (table_schema)
)
