-- Take (or keep) one schema's lease: one statement, atomic on the enforced key. It is taken when
-- nobody holds it, kept (expiry moved) when the caller holds it, taken over when it has expired.
-- Who holds it afterwards is read by lease/read.sql.
INSERT INTO {leases} AS l (table_schema, holder, acquired_at, expires_at)
VALUES (:schema, :holder, :now, :expires_at)
ON CONFLICT (table_schema) DO UPDATE
SET holder = excluded.holder,
    acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END,
    expires_at = excluded.expires_at
WHERE l.holder = excluded.holder OR l.expires_at < excluded.acquired_at
