-- Drop staged rows that would not change their audit row, so the passes below write nothing for them.
DELETE FROM {stage}
WHERE refresh_id = :refresh_id
  AND EXISTS (
    SELECT 1
    FROM {audit} AS a
    WHERE a.table_schema = {stage}.table_schema
      AND a.table_name = {stage}.table_name
      AND a.export_status = {stage}.export_status
      AND COALESCE(a.src_row_count, -1) = COALESCE({stage}.src_row_count, -1)
      AND COALESCE(a.tgt_row_count, -1) = COALESCE({stage}.tgt_row_count, -1)
      AND COALESCE(CAST(a.src_present AS INTEGER), -1) = COALESCE(CAST({stage}.src_present AS INTEGER), -1)
      AND COALESCE(CAST(a.tgt_present AS INTEGER), -1) = COALESCE(CAST({stage}.tgt_present AS INTEGER), -1)
      AND COALESCE(a.src_fingerprint, '') = COALESCE({stage}.src_fingerprint, '')
      AND COALESCE(a.tgt_fingerprint, '') = COALESCE({stage}.tgt_fingerprint, '')
      AND COALESCE(CAST(a.schema_drift AS INTEGER), 0) = COALESCE(CAST({stage}.schema_drift AS INTEGER), 0)
      AND COALESCE(a.schema_diff, '') = COALESCE({stage}.schema_diff, '')
  )
