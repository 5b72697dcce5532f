-- Tables and rows per status among the staged rows, as decide_status gives them: the refresh's summary
-- adds these to the unchanged rows it read, instead of a second pass over the schema's audit rows.
SELECT d.export_status, COUNT(*) AS tables, SUM(d.src_row_count) AS src_rows, SUM(d.tgt_row_count) AS tgt_rows
FROM (
    SELECT {decide_status} AS export_status, s.src_row_count, s.tgt_row_count
    FROM {stage} AS s
) AS d
GROUP BY d.export_status
