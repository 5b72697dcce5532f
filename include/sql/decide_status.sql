-- What decides a table's status: this expression, and nothing else. The statements of the status
-- pass embed it where they need a staged row's status ({row}: the stage's alias there): the history
-- (record_transitions), the audit row (apply_status, insert_new_tables), the summary (stage_summary)
-- and the repair prune (prune_unchanged). It is not stored in the stage first: that was a write of
-- every staged row (BENCHMARKS.md).
-- Read top to bottom: the first rule that holds wins. `drift` comes after `missing` (a table that is
-- not there has no columns to compare) and before every count and content rule: while the columns
-- differ, a copy would fail or lose a column, so the counts say nothing a rerun could fix.
CASE
    WHEN NOT {row}.src_present                                   THEN 'dropped'   -- gone from the source
    WHEN {row}.tgt_present IS NULL OR {row}.src_row_count IS NULL THEN 'pending'   -- not compared yet
    WHEN NOT {row}.tgt_present                                   THEN 'missing'   -- no table on the target
    WHEN {row}.schema_drift                                      THEN 'drift'     -- columns differ: needs a DDL fix
    WHEN {row}.tgt_row_count = {row}.src_row_count
     AND {row}.src_fingerprint <> {row}.tgt_fingerprint           THEN 'mismatch'  -- same count, other content
    WHEN {row}.tgt_row_count = {row}.src_row_count               THEN 'complete'  -- also 0 = 0: empty is not a reject
    WHEN {row}.tgt_row_count = 0                                 THEN 'reject'    -- nothing arrived
    WHEN {row}.src_row_count > {row}.tgt_row_count               THEN 'partial'   -- some rows missing
    ELSE                                                              'overload'  -- more rows than the source
END
