-- What the status pass compares, read once per refresh under the schema's lock: a schema's stored
-- inputs and status, no timestamps (a refresh of 1,000,000 tables reads about half the bytes of
-- read_audit). {input_columns} is filled from store.INPUT_COLUMNS.
SELECT {input_columns}
FROM {audit}
WHERE table_schema = :schema
