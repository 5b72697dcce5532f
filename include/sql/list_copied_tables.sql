-- Tables of a schema that a copy has filled at least once without an error (data run or rerun).
SELECT DISTINCT table_name
FROM {history}
WHERE table_schema = :schema AND event_type = 'copy' AND error IS NULL
