SELECT schema_name FROM v_catalog.schemata WHERE schema_name = :schema
