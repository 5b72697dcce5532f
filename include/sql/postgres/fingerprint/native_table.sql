-- Same-engine fingerprint: row count and the sum of each row's 64-bit hash ({values}: the per-column hashes
-- combined, PostgresAuditDialect.native_values) - no text rendering. Parallel workers welcome.
SELECT 'native:' || CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM({values}), 0) AS TEXT)
FROM {table} WHERE {where}
