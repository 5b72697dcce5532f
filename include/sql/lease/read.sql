SELECT table_schema, holder, acquired_at, expires_at
FROM {leases}
WHERE table_schema = :schema
