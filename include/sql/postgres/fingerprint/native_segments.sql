-- The same value as native_table.sql per bisection segment, in one scan.
SELECT {segment} AS seg, 'native:' || CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM({values}), 0) AS TEXT)
FROM {table} WHERE {where}
GROUP BY seg
