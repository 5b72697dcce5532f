-- What decides a table's status: this statement, and nothing else.
-- Read top to bottom: the first rule that holds wins. `drift` comes after `missing` (a table that is
-- not there has no columns to compare) and before every count and content rule: while the columns
-- differ, a copy would fail or lose a column, so the counts say nothing a rerun could fix.
UPDATE {stage}
SET export_status = CASE
        WHEN NOT src_present                              THEN 'dropped'   -- gone from the source
        WHEN tgt_present IS NULL OR src_row_count IS NULL THEN 'pending'   -- not compared yet
        WHEN NOT tgt_present                              THEN 'missing'   -- no table on the target
        WHEN schema_drift                                 THEN 'drift'     -- columns differ: needs a DDL fix
        WHEN tgt_row_count = src_row_count
         AND src_fingerprint <> tgt_fingerprint            THEN 'mismatch'  -- same count, other content
        WHEN tgt_row_count = src_row_count                THEN 'complete'  -- also 0 = 0: empty is not a reject
        WHEN tgt_row_count = 0                            THEN 'reject'    -- nothing arrived
        WHEN src_row_count > tgt_row_count                THEN 'partial'   -- some rows missing
        ELSE                                                   'overload'  -- more rows than the source
    END
WHERE refresh_id = :refresh_id
