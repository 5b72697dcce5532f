-- Release a lease the caller holds; a lease taken over by another run is left to that run.
DELETE FROM {leases}
WHERE table_schema = :schema AND holder = :holder
