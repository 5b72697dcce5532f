-- Same-engine fingerprint: row count and the sum of Vertica's HASH of each row (the shared columns in name
-- order, each cast by its class: HASH depends on the argument's type), summed as NUMERIC (no overflow).
SELECT 'native:' || CAST(COUNT(*) AS VARCHAR) || ':' || CAST(COALESCE(SUM(CAST(HASH({values}) AS NUMERIC(38, 0))), 0) AS VARCHAR)
FROM {table} WHERE {where}
