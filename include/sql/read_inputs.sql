-- What the status pass compares: a schema's stored inputs and status, nothing else (no timestamps,
-- so a refresh of 1,000,000 tables reads about half the bytes of read_audit).
SELECT table_name, src_present, src_row_count, tgt_present, tgt_row_count, export_status,
       src_fingerprint, tgt_fingerprint
FROM {audit}
WHERE table_schema = :schema
