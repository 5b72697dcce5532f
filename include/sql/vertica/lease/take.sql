-- Vertica has no ON CONFLICT and does not enforce keys: the lease table's lock serialises takers
-- (held until this transaction commits; only other takers of a lease wait, for milliseconds), then
-- the UPDATE keeps or takes over the row and the INSERT adds it if there is none.
LOCK TABLE {leases} IN EXCLUSIVE MODE;
UPDATE {leases}
SET acquired_at = CASE WHEN holder = :holder THEN acquired_at ELSE :now END,
    holder = :holder,
    expires_at = :expires_at
WHERE table_schema = :schema AND (holder = :holder OR expires_at < :now);
INSERT INTO {leases} (table_schema, holder, acquired_at, expires_at)
SELECT :schema, :holder, :now, :expires_at
FROM (SELECT 1 AS one) AS one_row
WHERE NOT EXISTS (SELECT 1 FROM {leases} WHERE table_schema = :schema)
