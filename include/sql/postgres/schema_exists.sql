SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = :schema
