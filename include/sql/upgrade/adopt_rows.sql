-- Adopt one schema's seed rows: counts and the seed's status kept (a status this provider does not
-- know becomes pending), created_ts from update_ts, presence unknown (NULL) until the next count.
UPDATE {audit}
SET created_ts = COALESCE(update_ts, :now),
    update_ts = COALESCE(update_ts, :now),
    export_success = COALESCE(export_success, FALSE),
    export_status = CASE WHEN export_status IN ('complete', 'partial', 'overload', 'reject') THEN export_status
                         ELSE 'pending' END,
    last_run_id = :run_id
WHERE table_schema = :schema AND created_ts IS NULL
