-- Fingerprints of the segments of a key range, in one scan: the same value per segment as table.sql.
SELECT seg, CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(h1), 0) AS VARCHAR) || ':' || CAST(COALESCE(SUM(h2), 0) AS VARCHAR)
       || ':' || CAST(COALESCE(SUM(h3), 0) AS VARCHAR) || ':' || CAST(COALESCE(SUM(h4), 0) AS VARCHAR)
FROM (
    SELECT seg, HEX_TO_INTEGER(SUBSTR(m, 1, 8)) AS h1, HEX_TO_INTEGER(SUBSTR(m, 9, 8)) AS h2,
           HEX_TO_INTEGER(SUBSTR(m, 17, 8)) AS h3, HEX_TO_INTEGER(SUBSTR(m, 25, 8)) AS h4
    FROM (SELECT {segment} AS seg, MD5({row}) AS m FROM {table} WHERE {where}) AS rows
) AS hashed
GROUP BY seg
