SELECT CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(h1), 0) AS TEXT) || ':' || CAST(COALESCE(SUM(h2), 0) AS TEXT)
       || ':' || CAST(COALESCE(SUM(h3), 0) AS TEXT) || ':' || CAST(COALESCE(SUM(h4), 0) AS TEXT)
FROM (
    SELECT CAST(CAST('x' || SUBSTR(m, 1, 8) AS BIT(32)) AS BIGINT) AS h1,
           CAST(CAST('x' || SUBSTR(m, 9, 8) AS BIT(32)) AS BIGINT) AS h2,
           CAST(CAST('x' || SUBSTR(m, 17, 8) AS BIT(32)) AS BIGINT) AS h3,
           CAST(CAST('x' || SUBSTR(m, 25, 8) AS BIT(32)) AS BIGINT) AS h4
    -- OFFSET 0 keeps the planner from inlining MD5 into each of the four slices (4x the work).
    FROM (SELECT MD5({row}) AS m FROM {table} WHERE {where} OFFSET 0) AS rows
) AS hashed
