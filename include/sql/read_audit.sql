SELECT table_name, src_present, src_row_count, tgt_present, tgt_row_count,
       src_counted_at, tgt_counted_at, count_method, export_status, src_fingerprint, tgt_fingerprint
FROM {audit}
WHERE table_schema = :schema
