-- DELETE, not TRUNCATE: Vertica's TRUNCATE commits at once, which could leave an empty target.
DELETE FROM {target}
