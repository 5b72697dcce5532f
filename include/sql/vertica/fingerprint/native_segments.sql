-- The same value as native_table.sql per bisection segment, in one scan.
SELECT seg, 'native:' || CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(h AS NUMERIC(38, 0))), 0) AS VARCHAR)
FROM (SELECT {segment} AS seg, HASH({values}) AS h FROM {table} WHERE {where}) AS hashed
GROUP BY seg
