-- The one pass over the audit table: only rows in the stage (rows that change) are written.
-- The stage marks the counts taken in this pass (src_counted_at / tgt_counted_at not NULL) and holds
-- count_method only then: those rows get this pass's count times, every other value stays as it was.
UPDATE {audit} AS a
SET src_present = s.src_present,
    src_row_count = s.src_row_count,
    tgt_present = s.tgt_present,
    tgt_row_count = s.tgt_row_count,
    src_counted_at = CASE WHEN s.src_counted_at IS NULL THEN a.src_counted_at ELSE :src_counted_at END,
    tgt_counted_at = CASE WHEN s.tgt_counted_at IS NULL THEN a.tgt_counted_at ELSE :tgt_counted_at END,
    count_method = COALESCE(s.count_method, a.count_method),
    fingerprinted_at = CASE
        WHEN s.src_fingerprint IS NULL THEN NULL
        WHEN s.src_fingerprint = a.src_fingerprint AND s.tgt_fingerprint = a.tgt_fingerprint
            THEN a.fingerprinted_at
        ELSE :now END,
    src_fingerprint = s.src_fingerprint,
    tgt_fingerprint = s.tgt_fingerprint,
    schema_drift = s.schema_drift,
    schema_diff = s.schema_diff,
    export_status = {decide_status},
    export_success = ({decide_status} = 'complete'),
    update_ts = :now,
    last_run_id = :run_id
FROM {stage} AS s
WHERE a.table_schema = :schema
  AND a.table_name = s.table_name
