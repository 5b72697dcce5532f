-- With force, drop staged rows that would not change their audit row (same inputs, and the status
-- decide_status gives them is the one stored), so the passes below write nothing for them.
DELETE FROM {stage}
WHERE table_name IN (
    SELECT s.table_name
    FROM {stage} AS s
    JOIN {audit} AS a ON a.table_schema = :schema AND a.table_name = s.table_name
    WHERE a.export_status = {decide_status}
      AND COALESCE(a.src_row_count, -1) = COALESCE(s.src_row_count, -1)
      AND COALESCE(a.tgt_row_count, -1) = COALESCE(s.tgt_row_count, -1)
      AND COALESCE(CAST(a.src_present AS INTEGER), -1) = COALESCE(CAST(s.src_present AS INTEGER), -1)
      AND COALESCE(CAST(a.tgt_present AS INTEGER), -1) = COALESCE(CAST(s.tgt_present AS INTEGER), -1)
      AND COALESCE(a.src_fingerprint, '') = COALESCE(s.src_fingerprint, '')
      AND COALESCE(a.tgt_fingerprint, '') = COALESCE(s.tgt_fingerprint, '')
      AND COALESCE(CAST(a.schema_drift AS INTEGER), 0) = COALESCE(CAST(s.schema_drift AS INTEGER), 0)
      AND COALESCE(a.schema_diff, '') = COALESCE(s.schema_diff, '')
)
