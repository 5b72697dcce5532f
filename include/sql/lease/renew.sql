-- Move the expiry of a lease the caller still holds (0 rows: it was taken over or released).
UPDATE {leases}
SET expires_at = :expires_at
WHERE table_schema = :schema AND holder = :holder
