INSERT INTO {stage} (
    table_name, old_status, src_present, src_row_count, tgt_present, tgt_row_count,
    src_counted_at, tgt_counted_at, count_method, src_fingerprint, tgt_fingerprint, schema_drift, schema_diff
) VALUES (
    :table_name, :old_status, :src_present, :src_row_count, :tgt_present, :tgt_row_count,
    :src_counted_at, :tgt_counted_at, :count_method, :src_fingerprint, :tgt_fingerprint, :schema_drift,
    :schema_diff
)
