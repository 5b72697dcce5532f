-- Same-engine fingerprint: row count and the sum of PostgreSQL's own 64-bit hash of each row (the shared
-- columns in name order) - no text rendering. hash_record_extended needs PostgreSQL 14 or later.
SELECT 'native:' || CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(hash_record_extended(ROW({values}), 0)), 0) AS TEXT)
FROM {table} WHERE {where}
