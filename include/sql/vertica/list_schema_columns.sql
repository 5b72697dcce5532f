-- Every column of every table of one schema, in one catalog read (schema drift, row filters).
-- data_type is Vertica's spelling with its size (varchar(50), numeric(10,2), int); is_nullable is boolean.
SELECT table_name, column_name, data_type, character_maximum_length AS char_length,
       numeric_precision AS num_precision, numeric_scale AS num_scale, is_nullable AS nullable
FROM v_catalog.columns
WHERE table_schema = :schema AND NOT is_system_table
ORDER BY table_name, ordinal_position
